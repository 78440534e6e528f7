"""Text to vectors: the model, its ONNX export and the encoder that runs it."""
