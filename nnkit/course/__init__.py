"""The course's single-input operations and demonstrations: image convolution and pooling, filters, one-hot, reshaping, one dense layer, logic gates, the optimizer race."""
