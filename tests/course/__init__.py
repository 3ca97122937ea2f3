"""Tests of nnkit.course."""
