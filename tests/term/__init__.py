"""Tests of nnkit.term."""
