"""A function on llvm over dask arrays runs the llvm batch kernel in each chunk's task.

Skipped where llvmlite or dask is missing; .ci/run.d/llvm.sh installs both.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("llvmlite")
da = pytest.importorskip("dask.array")

import dask  # noqa: E402

import graphc  # noqa: E402
from graphc.backends.dask import scale  # noqa: E402
from graphc.backends.llvm import tasks  # noqa: E402

from numba_reference import leaves, relative  # noqa: E402

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_chunks_run_the_llvm_kernel_and_equal_the_batch_in_memory(scheduler):
    f = graphc.compile(QUIZ, backend="llvm")
    xs = np.linspace(1.5, 3.0, 1000)
    lazy = da.from_array(xs, chunks=300)
    before = scale.chunk_runs()["llvm"]
    with dask.config.set(scheduler=scheduler):
        got = dask.compute(*leaves(f.value_and_grad(lazy, 2.5)))
    if scheduler == "threads":  # the tasks ran here: four chunks on the llvm kernel
        assert scale.chunk_runs()["llvm"] - before == 4
    in_memory = leaves(f.value_and_grad(xs, 2.5))
    for g, w in zip(got, in_memory, strict=True):
        assert np.array_equal(g, w)   # the same kernel, point by point: the same bits
    python = leaves(f.using("python").value_and_grad(xs, 2.5))
    for g, w in zip(got, python, strict=True):
        assert relative(g, w) <= 1e-12


def test_raise_policy_in_tasks_gives_the_numpy_error():
    f = graphc.compile("log(x) + y", on_domain_error="raise").using("llvm")
    lazy = da.from_array(np.array([2.0, 3.0, -1.0, 4.0]), chunks=2)
    with dask.config.set(scheduler="threads"):
        with pytest.raises(graphc.DomainError, match="log"):
            f(lazy, 1.0).compute()
        got = f(da.from_array(np.array([2.0, 3.0]), chunks=1), 1.0).compute()
        assert relative(got, np.log([2.0, 3.0]) + 1.0) <= 1e-15


def test_threads_per_task_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(tasks.ENV, raising=False)
    assert tasks.threads_per_task() == 1
    monkeypatch.setenv(tasks.ENV, "3")
    assert tasks.threads_per_task() == 3
    monkeypatch.setenv(tasks.ENV, "many")
    with pytest.raises(graphc.GraphcError, match=tasks.ENV):
        tasks.threads_per_task()
