"""graphc on its llvm backend as a benchmark system, prepared cold and warm as on numba.

The same two fresh processes as graphc-numba's (:mod:`.graphc_numba`): **cold**, an empty cache
folder (``GRAPHC_CACHE_DIR``), after llvm's own start-up (import, LLVM's initialization, on a
formula of its own in a folder of its own); **warm**, a second process loading the object code
the first one wrote. Whether each compiled or loaded is read from the cache folder: a prepare
that wrote object files compiled (its "misses"), one that wrote none loaded. The worker then
loads from that folder; its first batch call compiles the batch kernel (timed, in a case's first
round). It also times the packed entry, ``f.packed("value_and_grad")(x)`` on one float64 array.
"""

from __future__ import annotations

import time

from benchmarks.systems.graphc_numba import GraphcNumba


class GraphcLLVM(GraphcNumba):
    """graphc on its llvm backend (graphc[llvm])."""

    name = "graphc-llvm"
    backend = "llvm"

    def batch(self, case, f, arrays):
        """The batch call; its first call, on two points, compiles the batch kernel (timed
        in :attr:`batch_notes`)."""
        start = time.perf_counter()
        f.value_and_grad(*(a[:2] for a in arrays))
        self.batch_notes = {"batch_compile_s": time.perf_counter() - start}
        return lambda: f.value_and_grad(*arrays)
