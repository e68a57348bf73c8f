"""Without the optional extra graphc[dask], a dask array is refused with what to install; it is
never computed into one numpy array. Runs whether or not dask is installed (it hides dask)."""

import sys

import numpy as np
import pytest

import graphc

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
LOGISTIC = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"
LOGISTIC_SHAPES = {"X": ("n", 3), "y": ("n",), "w": (3,)}


class _FakeDaskArray:
    """Stands for a dask array where dask cannot be imported: it has a dask graph, nothing else."""

    def __dask_graph__(self):
        return {}


_FakeDaskArray.__module__ = "dask.array.core"


def test_a_dask_array_without_the_extra_is_refused_with_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)  # import dask raises ImportError
    monkeypatch.setitem(sys.modules, "dask.array", None)
    f = graphc.compile(QUIZ)
    for call in (lambda: f(_FakeDaskArray(), 3.0), lambda: f.grad(2.0, _FakeDaskArray())):
        with pytest.raises(graphc.GraphcError, match=r'pip install "graphc\[dask\]"'):
            call()
    loss = graphc.compile(LOGISTIC, shapes=LOGISTIC_SHAPES)
    with pytest.raises(graphc.GraphcError, match=r'pip install "graphc\[dask\]"'):
        loss.value_and_grad(X=_FakeDaskArray(), y=np.zeros(4), w=np.zeros(3), b=0.0)


def test_a_dask_array_is_recognised_without_importing_dask():
    from graphc.backends.dask.scale import is_dask

    assert is_dask(_FakeDaskArray())
    assert not any(is_dask(v) for v in (1.0, np.ones(3), [1.0], "x"))
