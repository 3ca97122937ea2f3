"""File formats: arrays, text tables, .npy/.npz, images and volumes, model files and their schema, ONNX export."""
