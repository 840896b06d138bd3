"""Edge deployment: ``export`` writes ONNX scorers (needs the full install); ``runtime`` scores
readings with numpy and onnxruntime only (the ``geniot-edge`` command; it never imports torch)."""
