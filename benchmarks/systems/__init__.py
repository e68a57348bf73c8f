"""The systems the benchmarks compare: graphc (its Python backends, :mod:`.graphc`; on numba,
:mod:`.graphc_numba`) and its peers (SymPy, SymEngine-LLVM, JAX, PyTorch, CasADi: :mod:`.peers`),
behind one interface: prepare a case, count its operations, and hand back the calls to time.

Every adapter's ``prepare`` does all the work its system needs before a first answer (parse or
build, differentiate, print or trace, compile, first call), so the worker times it whole.
``scalar`` and ``batch`` return zero-argument callables that compute the value and the full
gradient at one point or at every point of a batch; ``scalar_floats`` and ``batch_arrays`` turn
their results into plain numbers for the cross-check. A new system is an adapter module here and
one entry in :data:`SYSTEMS` and :data:`ADAPTERS` (and in :func:`installed` if it needs a package).
"""

from __future__ import annotations

from benchmarks.systems.graphc import Graphc
from benchmarks.systems.graphc_llvm import GraphcLLVM
from benchmarks.systems.graphc_numba import GraphcNumba
from benchmarks.systems.peers import Casadi, Jax, SymEngine, Sympy, Torch

SYSTEMS = ("graphc", "graphc-numba", "graphc-llvm", "sympy", "symengine", "jax", "torch", "casadi")


def installed(system: str) -> bool:
    """Whether a peer can be imported here (graphc and SymPy always can). SymEngine counts
    only with its LLVM backend (the PyPI wheels have it); graphc-llvm needs llvmlite and a
    graphc with its llvm backend."""
    import importlib.util

    module = {"jax": "jax", "torch": "torch", "casadi": "casadi", "symengine": "symengine",
              "graphc-numba": "numba", "graphc-llvm": "llvmlite"}.get(system)
    if module is None:
        return True
    if system == "graphc-llvm" and importlib.util.find_spec("graphc.backends.llvm") is None:
        return False
    if importlib.util.find_spec(module) is None:
        return False
    if system == "symengine":
        import symengine

        return bool(getattr(symengine, "have_llvm", False))
    return True


#: Each system's adapter class, by the name the command line and the report use.
ADAPTERS = {"graphc": Graphc, "graphc-numba": GraphcNumba, "graphc-llvm": GraphcLLVM, "sympy": Sympy, "symengine": SymEngine,
            "jax": Jax, "torch": Torch, "casadi": Casadi}
