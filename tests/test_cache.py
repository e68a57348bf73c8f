"""graphc's one cache folder (graphc.backends.cache): GRAPHC_CACHE_DIR is the root, each target
that compiles has a subfolder, and the C runner's former setting GRAPHC_CACHE still works with a
DeprecationWarning. The targets' own use of it: tests/test_c_runner.py (C) and tests/test_numba.py
(numba, in CI's numba step)."""

from __future__ import annotations

import os
import stat
import sys
import warnings

import pytest

from graphc.backends import cache
from graphc.errors import GraphcError


@pytest.fixture
def clean(monkeypatch):
    for name in ("GRAPHC_CACHE_DIR", "GRAPHC_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_graphc_cache_dir_is_the_root_with_a_subfolder_per_target(clean, tmp_path):
    clean.setenv("GRAPHC_CACHE_DIR", str(tmp_path))
    assert cache.folder("numba") == tmp_path / "numba"
    assert cache.folder("c", old_setting=True) == tmp_path / "c"
    assert cache.folder("llvm") == tmp_path / "llvm"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the Linux convention")
def test_without_a_setting_the_platform_convention_holds(clean, tmp_path):
    assert cache.folder("c") == cache.Path.home() / ".cache" / "graphc" / "c"
    clean.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.folder("numba") == tmp_path / "graphc" / "numba"


def test_the_old_setting_is_read_only_where_asked_and_warns(clean, tmp_path):
    clean.setenv("GRAPHC_CACHE", str(tmp_path / "old"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.folder("numba") != tmp_path / "old" / "numba"  # numba never read it
    with pytest.warns(DeprecationWarning, match="set GRAPHC_CACHE_DIR instead"):
        assert cache.folder("c", old_setting=True) == tmp_path / "old" / "c"


def test_the_new_setting_wins_over_the_old_one(clean, tmp_path):
    clean.setenv("GRAPHC_CACHE", str(tmp_path / "old"))
    clean.setenv("GRAPHC_CACHE_DIR", str(tmp_path / "new"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.folder("c", old_setting=True) == tmp_path / "new" / "c"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_private_folder_is_made_private_and_one_others_may_write_is_refused(clean, tmp_path):
    clean.setenv("GRAPHC_CACHE_DIR", str(tmp_path / "root"))
    made = cache.private_folder("c")
    assert made == tmp_path / "root" / "c"
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    os.chmod(tmp_path / "root", 0o777)
    with pytest.raises(GraphcError, match="may write to; set GRAPHC_CACHE_DIR"):
        cache.private_folder("c")


def test_a_folder_that_cannot_be_made_falls_back_to_a_temporary_one_with_a_warning(clean,
                                                                                   tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # the root is a file: no folder can be made under it
    clean.setenv("GRAPHC_CACHE_DIR", str(blocked))
    clean.setattr(cache, "_fallbacks", {})
    with pytest.warns(RuntimeWarning, match="cannot write its numba cache"):
        first = cache.writable_folder("numba")
    assert first.is_dir() and blocked not in first.parents
    assert cache.writable_folder("numba") == first  # one per process, warned once
