"""The terminal and the run: streams, output formats, progress, Ctrl-C, memory limits."""
