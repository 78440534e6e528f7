"""Text to vectors: one `Encoder` interface (base.py), its ONNX and torch implementations, and the
registry that says which one a variant name means (embedder.py and encoder.py are old import paths)."""
