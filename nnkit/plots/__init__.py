"""Every figure nnkit draws, made off-screen and saved atomically."""
