"""The front end: formula text, SymPy expressions and traced Python code in, graph nodes out."""
