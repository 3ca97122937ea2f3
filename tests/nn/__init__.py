"""Tests of nnkit.nn."""
