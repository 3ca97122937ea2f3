"""Labelled data: the bundled digits, CSV tables, MNIST files, named data sets, a learner's own digit, preparation and splits."""
