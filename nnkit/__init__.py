"""nnkit: see and run the building blocks of neural networks from the shell."""

__version__ = "0.1.0"
