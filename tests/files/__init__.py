"""Tests of nnkit.files."""
