"""What a run leaves: result files (atomic), charts, the model card, ONNX export, the terminal's log lines."""
