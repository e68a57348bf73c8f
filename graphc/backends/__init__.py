"""Backends: print a graph as source code and turn that source into a callable."""
