"""The stored index: segments, manifest, dense and keyword parts, and the stores that serve them."""
