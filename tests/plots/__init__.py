"""Tests of nnkit.plots."""
