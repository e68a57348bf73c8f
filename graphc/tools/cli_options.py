"""What the ``graphc`` command's options read: points (``--at``), shapes (``--shape``) and the
backend names ``--backend`` takes, each checked with a GraphcError that says what would be right;
and the examples and exit statuses its ``--help`` shows."""

from __future__ import annotations

import re
from typing import Sequence

from graphc.backends.numba.backend import RUNS_ON
from graphc.backends.registry import BACKENDS
from graphc.backends.targets import TARGETS
from graphc.errors import GraphcError

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
EXAMPLES = {
    "grad": [f'graphc grad "{QUIZ}" --at x=2,z=3',
             'graphc grad "exp(xz) + xz/log x + sin(log x)/xz" --var "x z" --at x=2,z=3',
             f'graphc grad "{QUIZ}" --at x=2,z=3 --mode forward --json'],
    "code": ['graphc code "cos(sin(x**2) + 3*x**2)" --kind grad --backend numpy > j_grad.py',
             f'graphc code "{QUIZ}" --backend c --kind all --prefix quiz --header quiz.h > quiz.c',
             f'graphc code "{QUIZ}" --backend jax --kind value_and_grad',
             'graphc code "sum(tanh(X @ W))" --shape X=nx3,W=3x4   # a batch of n rows'],
    "table": [f'graphc table "{QUIZ}" --at x=2,z=3',
              'graphc table "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; '
              'y = d + e + f" --at x=2,z=3 --json'],
    "draw": [f'graphc draw "{QUIZ}" --at x=2,z=3 -o quiz.png',
             f'graphc draw "{QUIZ}" -o quiz.dot && dot -Tsvg quiz.dot > quiz.svg'],
    "html": [f'graphc html "{QUIZ}" --at x=2,z=3 -o quiz.html'],
    "check": [f'graphc check "{QUIZ}"', f'graphc check "{QUIZ}" --at x=2,z=3 --json'],
    "hessian": [f'graphc hessian "{QUIZ}" --at x=2,z=3',
                f'graphc code "{QUIZ}" --kind hvp   # Hessian-vector products only'],
    "jacobian": ['graphc jacobian "20 - x - x*y/(1 + 0.5*x**2)" "10 - x*y/(1 + 0.5*x**2)" '
                 '--at x=1,y=2'],
}


EXIT_STATUS = ("exit status:\n  0  done\n  1  check: graphc and its oracles disagree\n"
               "  2  a formula, option or point graphc cannot use (the message says why)\n"
               "  141  the reader of the output stopped early (`graphc code ... | head`)")
BACKEND_HELP = ("the code to print and run: python (the default: math code for numbers, numpy "
                "for vectors and matrices), math, numpy, numba (pip install \"graphc[numba]\"), "
                "c (C99; runs through the system's C compiler), jax (pip install "
                "\"graphc[jax]\"), and any other registered backend")

#: What ``--backend python`` means: the generated Python (``math`` on floats), graphc's default.
PYTHON = "python"


def backend_names() -> list[str]:
    """Every name ``--backend`` takes, the same on every subcommand: ``python`` (the default),
    the backends calls can run on, then every registered backend and every target printing
    another language, so that a backend added to the registry appears here by itself."""
    return list(dict.fromkeys([PYTHON, *RUNS_ON, *BACKENDS, *TARGETS]))


def parse_point(texts: str | Sequence[str] | None) -> dict[str, float]:
    """``--at x=2,z=3`` (or ``--at x=2 --at z=3``: every ``--at`` adds to the one point) as
    ``{"x": 2.0, "z": 3.0}``."""
    if texts is None:
        return {}
    point: dict[str, float] = {}
    for text in [texts] if isinstance(texts, str) else texts:
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or not name:
                raise GraphcError(f"--at takes name=value pairs such as x=2,z=3, not {item!r}")
            if name in point:
                raise GraphcError(f"--at gives {name} twice (in {text!r})")
            try:
                point[name] = float(value)
            except ValueError:
                raise GraphcError(f"--at: {value.strip()!r} is not a number (in {item!r})") from None
    return point


_SIZE = re.compile(r"[0-9]+|[A-Za-z_][A-Za-z0-9_]*")


def parse_shapes(texts: Sequence[str] | None) -> dict[str, tuple] | None:
    """``--shape W=3x4 --shape x=4 --shape X=nx3`` (or ``W=3x4,x=4``) as
    ``{"W": (3, 4), "x": (4,), "X": ("n", 3)}``: sizes are positive whole numbers, or a name
    (``n``) for a size fixed only when the function is called (a batch axis). ``x`` separates
    sizes, so a size's name cannot contain it."""
    if not texts:
        return None
    shapes: dict[str, tuple] = {}
    for text in texts:
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, sizes = item.partition("=")
            name = name.strip()
            parts = [part.strip() for part in sizes.split("x")] if sizes.strip() else []
            if not sep or not name or not parts or not all(_SIZE.fullmatch(p) for p in parts):
                raise GraphcError(f"--shape takes NAME=SIZES such as W=3x4 (a matrix), x=4 (a "
                                  f"vector) or X=nx3 (n rows, fixed at the call), not {item!r}")
            if name in shapes:
                raise GraphcError(f"--shape gives {name} twice (in {text!r})")
            if any(p.isdigit() and int(p) == 0 for p in parts):
                raise GraphcError(f"--shape: a size is at least 1 (in {item!r})")
            shapes[name] = tuple(int(p) if p.isdigit() else p for p in parts)
    return shapes


#: ``check``'s exit statuses, added to its ``--help``.
CHECK_EXIT_STATUS = ("\n\nexit status: 0 graphc agrees with SymPy wherever the formula is defined "
                     "(a point\noutside the domain, or at a kink where graphc's documented rule "
                     "lies between\nSymPy's one-sided derivatives, counts as agreement); 1 "
                     "graphc disagrees at some\npoint; 2 could not check (bad formula, bad "
                     "option)")


def add_practice_options(page) -> None:
    """The ``html`` subcommand's options for a practice page and a random point."""
    page.add_argument("--practice", action="store_true", help="the tables start empty for a "
                      "student to fill in; each entry is checked, with a hint and the answer")
    page.add_argument("--random-point", action="store_true", help="instead of --at: a point "
                      "where every op is defined (other numbers for each student)")
    page.add_argument("--seed", type=int, metavar="N", help="with --random-point: the same N "
                      "gives the same point")
