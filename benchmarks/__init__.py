"""graphc's benchmark suite against SymPy, SymEngine, JAX, PyTorch and CasADi: ``python -m benchmarks``.

Three parts, and the report:

- the cases, :mod:`benchmarks.cases`: each formula as graphc's text and as a ``build`` any
  peer writes in its own functions;
- the systems, :mod:`benchmarks.systems`: graphc (on its Python backends, on numba and on llvm) and its
  peers behind one adapter interface;
- the runner, :mod:`benchmarks.runner`: one :mod:`benchmarks.worker` process per system,
  asked case by case, interleaved, with time limits; :mod:`benchmarks.check` cross-checks
  every system's answers;
- the report, :mod:`benchmarks.report`: docs/benchmarks.md, a section per backend.

The ``bench_*.py`` modules are standalone measurements of one subject each (the C and JAX
exports, keyword calls, matrices, preparation at scale, dask, numba's accuracy and compile
time), with the command that runs each in its docstring.
"""
