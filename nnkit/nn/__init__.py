"""The network itself: activations, losses, initializers, layers, the network, optimizers, the training loop, metrics."""
