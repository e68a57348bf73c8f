"""``f.compiled(kind, backend="c")``: the C compiled into a cache folder and called through
ctypes returns what the Python code returns, in the same structure, on the lecture's corpus."""

from __future__ import annotations

import math
import os
import stat

import pytest

import graphc
from graphc.backends.c import runner as c_runner
from graphc.errors import GraphcError

from c_harness import flat, need_compiler
from export_corpora import corpus, normwise


@pytest.fixture
def cache(tmp_path, monkeypatch):
    need_compiler()
    folder = tmp_path / "cache"
    monkeypatch.setenv("GRAPHC_CACHE_DIR", str(folder))
    monkeypatch.delenv("GRAPHC_CACHE", raising=False)
    return folder


def same_structure(a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return isinstance(a, float) and isinstance(b, float)


def test_every_kind_returns_what_the_python_code_returns(cache):
    for case in corpus("lecture"):
        for kind in case.kinds:
            run = case.function.compiled(kind, backend="c")
            python = case.function.compiled(kind, backend="math")
            second = case.second(kind)
            for k, point in enumerate(case.points):
                args = [*map(float, point), *(map(float, second[k]) if second is not None
                                               else [])]
                got, want = run(*args), python(*args)
                assert same_structure(got, want), (case.name, kind, got, want)
                assert normwise(flat(got), flat(want)) <= 1e-14, (case.name, kind)


def test_the_library_is_compiled_once_and_cached(cache):
    formula = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
    graphc.compile(formula).compiled("grad", backend="c")
    libraries = sorted((cache / "c").iterdir())
    assert len(libraries) == 1
    stamp = libraries[0].stat().st_mtime_ns
    again = graphc.compile(formula).compiled("grad", backend="c")  # a new Function, same C
    assert again(2.0, 3.0) == pytest.approx((1208.3812151266095, 809.707479218564), rel=1e-15)
    assert sorted((cache / "c").iterdir()) == libraries
    assert libraries[0].stat().st_mtime_ns == stamp
    assert stat.S_IMODE((cache / "c").stat().st_mode) == 0o700


def test_single_precision_runs_in_float(cache):
    f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    got = f.compiled("grad", backend="c", real="float")(2.0, 3.0)
    assert got != f.grad(2.0, 3.0)
    assert got == pytest.approx(f.grad(2.0, 3.0), rel=1e-6)


def test_a_cache_others_may_write_to_is_refused(cache):
    (cache / "c").mkdir(parents=True)
    os.chmod(cache / "c", 0o777)
    with pytest.raises(GraphcError, match="set GRAPHC_CACHE_DIR to a folder of your own"):
        graphc.compile("x*y").compiled("grad", backend="c")


def test_the_libraries_land_under_graphc_cache_dir(cache):
    run = graphc.compile("x*sin(y)").compiled("value", backend="c")
    assert run(2.0, 0.5) == pytest.approx(2.0 * math.sin(0.5), rel=1e-15)
    assert [p.suffix for p in (cache / "c").iterdir()] == [".so"]
    assert [p.name for p in cache.iterdir()] == ["c"]


def test_the_old_setting_still_works_and_says_it_is_deprecated(tmp_path, monkeypatch):
    need_compiler()
    monkeypatch.delenv("GRAPHC_CACHE_DIR", raising=False)
    monkeypatch.setenv("GRAPHC_CACHE", str(tmp_path / "old"))
    with pytest.warns(DeprecationWarning, match="GRAPHC_CACHE is deprecated: set GRAPHC_CACHE_DIR"):
        run = graphc.compile("x*sin(y)").compiled("value", backend="c")
    assert run(2.0, 0.5) == pytest.approx(2.0 * math.sin(0.5), rel=1e-15)
    assert [p.suffix for p in (tmp_path / "old" / "c").iterdir()] == [".so"]


def test_without_a_compiler_the_error_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", "")
    monkeypatch.setenv("PATH", str(tmp_path))  # no cc, gcc or clang there
    with pytest.raises(GraphcError, match="needs a C compiler"):
        c_runner.compiler()


def test_outside_the_domain_the_runner_gives_nan(cache):
    run = graphc.compile("log(x)").compiled("value", backend="c")
    assert run(-1.0) != run(-1.0)  # nan, where the Python backend raises a DomainError
