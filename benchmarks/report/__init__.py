"""The benchmark report, docs/benchmarks.md: one document with a section per backend.

- :mod:`.document`: the tables every system has (prepare, latency, throughput, memory,
  operation counts, agreement), graphc's targets against its peers, and the plot;
- :mod:`.graphc_numba`: the numba backend's section (its targets, cold and warm prepare, the
  compile series), included when graphc-numba ran;
- :mod:`.graphc_llvm`: the llvm backend's (its targets against graphc-numba, CasADi-jit, JAX
  and SymEngine-LLVM, the packed entry, its compile series), included when graphc-llvm ran;
- :mod:`.verdicts`: from measurements to verdicts, shared by the sections (a ratio per case,
  and every case without one named).

A new backend's section is a module here beside :mod:`.graphc_numba`, called from
:func:`.document.targets` when its system ran.
"""

from __future__ import annotations

from benchmarks.report.document import markdown, plot, targets

__all__ = ["markdown", "plot", "targets"]
