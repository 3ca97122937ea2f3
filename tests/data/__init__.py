"""Tests of nnkit.data."""
