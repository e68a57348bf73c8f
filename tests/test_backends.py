"""A backend is one Backend record (docs/design.md, "How to add a backend"): a toy target made
of nothing else runs, and what it cannot print is a clear error."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc.backends import registry
from graphc.backends.backend import Backend
from graphc.ops import OPS

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


def renamed(template):
    """numpy's template with the module under another name."""
    if callable(template):
        return lambda args: template(args).replace("np.", "xp.")
    return template.replace("np.", "xp.")


def test_a_new_backend_is_one_record(monkeypatch):
    toy = Backend("toy", {"xp": np}, inf="xp.inf", nan="xp.nan", arrays=True,
                  constants={"pi": "xp.pi", "e": "xp.e"},
                  templates={op.name: renamed(op.numpy) for op in OPS})
    monkeypatch.setitem(registry.BACKENDS, "toy", toy)
    f = graphc.compile(QUIZ + " + pi")
    source = f.source("grad", "toy")
    assert "xp.exp(" in source and "np." not in source
    # the math backend is the reference
    got = f.compiled("grad", "toy")(2.0, 3.0)
    want = f.grad(2.0, 3.0)
    assert got == pytest.approx(want, rel=1e-13)
    batch = f.compiled("value", "toy")(np.array([2.0, 1.5]), np.array([3.0, 0.5]))
    assert batch == pytest.approx([f(2.0, 3.0), f(1.5, 0.5)], rel=1e-13)


def test_an_op_a_backend_cannot_print_is_a_clear_error(monkeypatch):
    partial = Backend("partial", {"xp": np}, inf="xp.inf", nan="xp.nan",
                      templates={"mul": "{0} * {1}"})
    monkeypatch.setitem(registry.BACKENDS, "partial", partial)
    f = graphc.compile("x * sin(x)")
    with pytest.raises(graphc.GraphcError, match="the partial backend cannot print the op sin"):
        f.source("value", "partial")


def test_an_unknown_backend_names_those_there_are():
    with pytest.raises(graphc.GraphcError, match="unknown backend 'c99'; use one of math, numpy"):
        graphc.compile("x*y").source("grad", "c99")
