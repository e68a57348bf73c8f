"""The benchmark report's graphc-llvm targets: each ratio taken from the right measurements,
each case in scope counted (a numba-only family left out of the transcendental target)."""

from __future__ import annotations

from benchmarks.report import targets
from benchmarks.report.graphc_llvm import llvm_tables


def _cell(**fields):
    return {"check": [1.0], **fields}


def _results():
    llvm = dict(prepare_s=0.05, warm_prepare_s=0.004, python_prepare_s=0.002, cold_cache_misses=1,
                warm_cache_misses=0, latency_api_s=1e-6, latency_packed_s=1e-6, batch_s=0.01,
                batch_points=10**6, batch_compile_s=0.1, ops=10)
    return {
        "quiz": {"graphc-llvm": _cell(**llvm),
                 "graphc-numba": _cell(prepare_s=2.0, latency_api_s=2e-6, batch_s=0.03,
                                       batch_points=10**6, ops=10),
                 "casadi": _cell(prepare_s=0.01, jit_prepare_s=0.09, latency_jit_s=3e-6,
                                 latency_packed_s=4e-6, ops=10)},
        "wide(1000)": {"graphc-llvm": _cell(**dict(llvm, ops=5000, latency_packed_s=8e-6)),
                       "graphc-numba": _cell(prepare_s=0.5, latency_api_s=2e-6, batch_s=0.012,
                                             batch_points=10**6, ops=5000),
                       "casadi": _cell(prepare_s=0.01, jit_prepare_s=0.09, latency_jit_s=3e-6,
                                       latency_packed_s=4e-6, ops=5000)},
    }


def _line(text, words):
    return next(line for line in text.splitlines() if words in line)


def test_llvm_targets_take_their_ratios_from_the_right_cells():
    text = "\n".join(targets(_results(), ["graphc-llvm", "graphc-numba", "casadi"]))
    # CasADi-jit's cold prepare is its build plus its jit: 0.1 s against 0.05 s, 2× on both.
    assert "| quiz | 2× | met (2 cases) |" in _line(text, "cold prepare no slower than CasADi-jit")
    # 20 × numba's cold prepare: 40× on the quiz, 10× on wide(1000), which misses by 2×.
    assert "| wide(1000) | 10× | **missed** by 2× (1 of 2 cases) |" in _line(text, "≥ 20 × faster")
    assert "| 2× | met (2 cases) |" in _line(text, "warm prepare within 3 ×")
    # The packed entry: 4 µs for CasADi against 8 µs on wide(1000): missed by 2×.
    assert "| wide(1000) | 0.5× | **missed** by 2×" in _line(text, "packed entry")
    # Transcendental families only: the quiz (3×) counts, wide(1000) (1.2×) does not.
    assert "| quiz | 3× | met (1 case) |" in _line(text, "2 × graphc-numba's kernel")
    assert "not measured (JAX-jit not in this run)" in _line(text, "1.5 × JAX-jit")
    assert "not measured (no llvm compile series" in _line(text, "llvm: compile time per operation")


def test_llvm_table_lists_the_three_prepares_and_the_packed_calls():
    text = "\n".join(llvm_tables(_results(), None))
    assert "| quiz | 10 | 50 ms / 2 s / 100 ms | 4 ms / 2 ms | 1 / 0 | 1 µs / 2 µs / 3 µs | " \
           "1 µs / – / 4 µs | 100 / 33.3 / – / – | 100 ms / – |" in text
