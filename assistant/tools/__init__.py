"""Evaluation and benchmarks, run by `assistant eval` and `assistant bench`; the library never imports them."""
