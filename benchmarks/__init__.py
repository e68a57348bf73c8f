"""graphc's benchmark suite against SymPy, JAX, PyTorch and CasADi: ``python -m benchmarks``."""
