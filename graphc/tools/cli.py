"""The ``graphc`` command: gradient code, tables, pictures and checks of one formula from a shell.

    graphc grad  FORMULA --at x=2,z=3          reverse-mode code, value and gradient
    graphc code  FORMULA --kind grad           only the source, ready to paste (also C, JAX)
    graphc table FORMULA --at x=2,z=3          the forward and backward tables
    graphc draw  FORMULA --at x=2,z=3 -o g.png a picture of the graph (.dot, .png, .svg)
    graphc html  FORMULA --at x=2,z=3 -o q.html an interactive page of both passes
    graphc check FORMULA                       comparison with SymPy and finite differences
    graphc hessian FORMULA --at x=2,z=3        forward-over-reverse Hessian code and matrix
    graphc jacobian F1 F2 ... --at x=1,y=2     Jacobian of several formulas, by the cheaper mode

Every subcommand takes ``--var``/``--variables`` to declare the variables (which turns on slide
notation), ``--shape W=3x4`` to declare a vector or matrix, and ``--dialect gplearn|dso|pysr`` to
read a symbolic-regression tool's output; ``grad``, ``code``, ``hessian`` and ``jacobian`` take
``--backend`` with one list of names, derived from the backend registry
(:func:`graphc.tools.cli_options.backend_names`); ``grad``, ``table``, ``check``, ``hessian`` and
``jacobian`` take ``--json``. A formula or option graphc cannot use ends with exit status 2 and the
library's own message (with a caret under the spot in the formula), never a traceback; ``check``
exits 1 when graphc disagrees with SymPy at some point (0: it agrees wherever the formula is
defined, a point outside the domain or at a kink of graphc's documented rule counting as agreement;
2: could not check).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Sequence

import numpy as np

from graphc import __version__
from graphc.api.compiler import compile as compile_formula
from graphc.api.function import KINDS
from graphc.errors import GraphcError
from graphc.api.vector import KINDS as VECTOR_KINDS
from graphc.backends.scheduling import leaves
from graphc.frontend.dialects import DIALECTS
from graphc.tools.cli_options import (BACKEND_HELP, CHECK_EXIT_STATUS, EXAMPLES, EXIT_STATUS,
                                      PYTHON, RUNS_ON, add_practice_options, backend_names,
                                      parse_point, parse_shapes)

# ------------------------------------------------------------------------- output
def _at_text(point: dict[str, float]) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in point.items())


def _plain(value):
    """JSON has no inf or nan: they travel as the strings "inf", "-inf", "nan"."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _print_json(data: dict) -> None:
    print(json.dumps(_plain(data), indent=2, allow_nan=False))


def _print_values(labels: list[str], numbers: list[float]) -> None:
    width = max(len(label) for label in labels)
    for label, number in zip(labels, numbers):
        print(f"  {label:<{width}} = {number!r}")


# --------------------------------------------------------------------- subcommands
def _function(args):
    f = compile_formula(args.formula, variables=args.variables, dialect=args.dialect,
                        shapes=parse_shapes(args.shape))
    f.style = "assign"  # one line per operation, for reading: and so the code that runs here
    return f


def _point(f, args) -> dict[str, float]:
    """The point of ``--at``: numbers only, so a formula with vectors or matrices takes none."""
    point = parse_point(args.at)
    arrays = {name: shape for name, shape in getattr(f, "shapes", {}).items() if shape}
    if point and arrays:
        named = ", ".join(f"{name} {tuple(shape)}" for name, shape in arrays.items())
        raise GraphcError(f"--at gives numbers, and this formula has vectors or matrices "
                          f"({named}): print its code with 'graphc code' (it runs without "
                          "--at), or call it from Python with numpy arrays")
    return point


def _source_backend(args) -> str | None:
    """The backend whose code is printed: ``None`` (the function's own) for ``python``."""
    return None if args.backend == PYTHON else args.backend


def _evaluate(f, kind: str, args, values: list, call):
    """``kind`` of ``f`` at ``values`` (in ``f.variables`` order, then any directions) run on
    ``--backend``: through the Function (``call(g)`` of ``g`` running there) when calls can
    run on it, else the generated code itself (``f.compiled``). Where that code cannot give a
    finite answer, the Python backend says why (a DomainError in the formula's words)."""
    backend = args.backend
    if backend in (PYTHON, "math"):
        return call(f)
    if backend in RUNS_ON:
        return call(f.using(backend))
    if getattr(f, "tensor", False):
        raise GraphcError(f"--backend {backend} runs scalar formulas from the command line; "
                          "for vectors and matrices print its code with graphc code")
    try:
        with np.errstate(all="ignore"):  # a non-finite answer goes to Python, which says why
            result = _floats(f.compiled(kind, backend)(*values))
    except (ArithmeticError, ValueError):
        return call(f)  # raises the DomainError, or gives what Python gives
    if not all(map(math.isfinite, leaves(result))):
        return call(f)  # as on numba: Python raises the DomainError, or gives the same inf
    return result


def _floats(result):
    """JAX arrays, numpy scalars and nested tuples of them (at most three levels) as floats."""
    if isinstance(result, (tuple, list)):
        return tuple(_floats(item) for item in result)
    return float(result)


def _gradient_at(f, args, point: dict[str, float], forward: bool) -> tuple[float, Sequence[float]]:
    """The value and gradient at ``point`` on ``--backend`` (forward: a jvp per unit direction)."""
    values = f._bind((), point)
    if not forward:
        return _evaluate(f, "value_and_grad", args, values, lambda g: g.value_and_grad(**point))
    if not f.variables:
        return _evaluate(f, "value", args, values, lambda g: g(**point)), []
    gradient = []
    for name in f.variables:
        unit = [float(v == name) for v in f.variables]
        value, directional = _evaluate(f, "jvp", args, values + unit,
                                       lambda g: g.jvp(point, dict(zip(g.variables, unit))))
        gradient.append(directional)
    return value, gradient


def _grad(args) -> int:
    f = _function(args)
    forward = args.mode == "forward"
    source = f.source("jvp" if forward else "value_and_grad", _source_backend(args))
    point = _point(f, args) if args.at else None
    answer = _gradient_at(f, args, point, forward) if point is not None else None
    value, gradient = answer if answer is not None else (None, None)
    if args.json:
        _print_json({"formula": f.formula, "variables": list(f.variables), "mode": args.mode,
                     "backend": args.backend, "source": source, "point": point, "value": value,
                     "gradient": dict(zip(f.variables, gradient)) if gradient is not None else None})
        return 0
    print(source)
    if point is not None and answer is not None:
        print(f"at {_at_text(point)}:")
        _print_values(["value", *(f"d/d{name}" for name in f.variables)], [answer[0], *answer[1]])
        if forward:
            print("  (forward mode: one jvp per variable, along its unit direction)")
    return 0


def _code(args) -> int:
    if len(args.formula) > 1:
        f = compile_formula(list(args.formula), variables=args.variables, dialect=args.dialect,
                            shapes=parse_shapes(args.shape))
    else:
        args.formula = args.formula[0]
        f = _function(args)
    if args.backend == "c":
        return _c_code(f, args)
    if args.kind == "all" or args.header or args.static_inline or args.prefix or args.real:
        raise GraphcError("--kind all, --header, --static-inline, --prefix and --real are "
                          "options of --backend c")
    source = f.source(args.kind, _source_backend(args))
    imports = {"python": ["import math", "import numpy as np"], "math": ["import math"],
               "numpy": ["import numpy as np"],
               "jax": ["import jax.numpy as jnp", "import jax.scipy.special as jsp"],
               "numba": []}  # numba's module has its imports
    used = [line for line in imports.get(args.backend, []) if f"{line.split()[-1]}." in source]
    if used:
        print("\n".join(used) + "\n\n")
    print(source, end="")
    return 0


def _c_code(f, args) -> int:
    from graphc.backends.c.printer import files

    if args.header and args.static_inline:
        raise GraphcError("--static-inline prints one header-only file: leave out --header")
    header_name = None
    if args.header:
        header_name = args.header.replace("\\", "/").rsplit("/", 1)[-1]
    header, source = files(f, None if args.kind == "all" else [args.kind],
                           prefix=args.prefix or "f", real=args.real or "double",
                           static_inline=args.static_inline, header_name=header_name)
    if args.header:
        with open(args.header, "w", encoding="ascii") as handle:
            handle.write(header)
    print(header if args.static_inline else source, end="")
    return 0


def _table(args) -> int:
    f = _function(args)
    tables = f.table(**_point(f, args))
    if args.json:
        _print_json(tables.to_dict())
    else:
        print(tables)
    return 0


def _draw(args) -> int:
    f = _function(args)
    point = _point(f, args)
    picture = f.draw(args.output, **point)
    print(f"wrote {args.output} ({len(picture.nodes)} nodes, {len(picture.edges)} edges)")
    return 0


def _html(args) -> int:
    from graphc.tools.page_practice import random_point

    f = _function(args)
    if args.random_point == bool(args.at):
        raise GraphcError("give the point with --at x=2,z=3, or --random-point (not both)")
    point = random_point(f, args.seed) if args.random_point else _point(f, args)
    f.html(path=args.output, practice=args.practice, **point)
    size = os.path.getsize(args.output)
    at = ", ".join(f"{k} = {v:g}" for k, v in point.items()) if args.random_point else ""
    print(f"wrote {args.output} ({size // 1024 + 1} KiB; open it in a browser, no network "
          f"needed)" + (f" at {at}" if at else ""))
    return 0


def _check(args) -> int:
    from graphc.tools.check import check

    f = _function(args)
    points = None
    if args.at:
        points = []
        for text in args.at:
            values = parse_point(text)
            points.append(f._bind((), values))
    report = check(f, points=points)
    if args.json:
        _print_json({"formula": f.formula, "ok": report.ok, "variables": list(report.variables),
                     "points": [list(p) for p in report.points],
                     "verdicts": [c.to_dict() for c in report.checks],
                     "value_error": report.value_error,
                     "grad_error_sympy": report.grad_error_sympy,
                     "grad_error_fd": report.grad_error_fd, "rtol": report.rtol,
                     "fd_rtol": report.fd_rtol, "sympy_derivative_ops": report.sympy_ops,
                     "graphc_grad_ops": report.graphc_grad_ops,
                     "graphc_value_ops": report.graphc_value_ops,
                     "size_ratio": report.size_ratio})
    else:
        print(report)
    return 0 if report.ok else 1


def _hessian(args) -> int:
    f = _function(args)
    point = _point(f, args)
    matrix = np.array(_evaluate(f, "hessian", args, f._bind((), point),
                                lambda g: g.hessian(**point)), dtype=float)
    source = f.source("hessian", _source_backend(args))
    if args.json:
        _print_json({"formula": f.formula, "variables": list(f.variables), "point": point,
                     "backend": args.backend, "source": source, "hessian": matrix.tolist()})
        return 0
    print(source)
    print(f"Hessian at {_at_text(point)}, rows and columns in order ({', '.join(f.variables)}):")
    for name, row in zip(f.variables, matrix):
        print(f"  d/d{name}: [{', '.join(repr(float(v)) for v in row)}]")
    return 0


def _jacobian(args) -> int:
    F = compile_formula(list(args.formula), variables=args.variables, dialect=args.dialect,
                        shapes=parse_shapes(args.shape))
    point = parse_point(args.at)
    matrix = np.array(_evaluate(F, "jacobian", args, F._bind((), point),
                                lambda g: g.jacobian(**point)), dtype=float)
    source = F.source("jacobian", _source_backend(args))
    if args.json:
        _print_json({"formulas": list(args.formula), "variables": list(F.variables),
                     "mode": F.mode, "explain": F.explain(), "point": point,
                     "backend": args.backend, "source": source, "jacobian": matrix.tolist()})
        return 0
    print(F.explain())
    print()
    print(source)
    print(f"Jacobian at {_at_text(point)}, columns in order ({', '.join(F.variables)}):")
    for k, row in enumerate(matrix):
        print(f"  F[{k}]: [{', '.join(repr(float(v)) for v in row)}]")
    return 0


# -------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphc", description="Compile a formula to gradient code, and show the pass.",
        epilog="example:\n  " + EXAMPLES["grad"][0] + "\n\nrun 'graphc COMMAND --help' for more"
               "\n\n" + EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"graphc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, run, at: str | None, json_flag: bool, several=False):
        p = sub.add_parser(name, help=help, description=help,
                           epilog="examples:\n  " + "\n  ".join(EXAMPLES[name]) + "\n\n"
                           + EXIT_STATUS,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if several:
            p.add_argument("formula", nargs="+", help="the formulas, one output each")
        else:
            p.add_argument("formula", help="a formula such as \"exp(x*z) + x*z/log(x)\", "
                                           "or a program \"a = x*z; y = exp(a) + a\"")
        p.add_argument("--var", "--variables", dest="variables", metavar="NAMES",
                       help="declare the variables in order, e.g. \"x z\" (turns on slide notation)")
        p.add_argument("--dialect", choices=sorted(DIALECTS), default=None,
                       help="read a symbolic-regression tool's output: its function names, "
                            "protected operators and variable numbering")
        p.add_argument("--shape", metavar="NAME=SIZES", action="append",
                       help="declare a vector or matrix: W=3x4, x=4, X=nx3 (n rows, any number "
                            "at the call); repeatable, or W=3x4,x=4")
        if at in ("optional", "required"):
            p.add_argument("--at", metavar="POINT", action="append", required=at == "required",
                           help="the point, e.g. x=2,z=3 (or --at x=2 --at z=3)")
        elif at == "repeat":
            p.add_argument("--at", metavar="POINT", action="append",
                           help="check at this point, e.g. x=2,z=3 (repeatable; default: 5 "
                                "points sampled in (0.1, 0.9))")
        if json_flag:
            p.add_argument("--json", action="store_true", help="print JSON for machines")
        p.set_defaults(run=run)
        return p

    grad = command("grad", "print reverse-mode gradient code and evaluate it at a point",
                   _grad, "optional", True)
    grad.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                      help="reverse mode (backpropagation, the default) or forward mode (jvp)")
    code = command("code", "print only the generated source, ready to paste into a program",
                   _code, None, False, several=True)
    code.add_argument("--kind", choices=tuple(dict.fromkeys(KINDS + VECTOR_KINDS)) + ("all",),
                      default="grad", help="which function (default grad; vector kinds for "
                      "several formulas; all: every kind, for --backend c)")
    code.add_argument("--prefix", metavar="NAME", help="C: prefix of function and macro "
                      "names (default f: f_grad, F_N_IN)")
    code.add_argument("--real", choices=("double", "float"), help="C: the real type (default "
                      "double)")
    code.add_argument("--static-inline", action="store_true",
                      help="C: one header-only file of static inline functions")
    code.add_argument("--header", metavar="FILE", help="C: write the header to FILE; the "
                      "source printed includes it")
    command("table", "print the forward and backward tables at a point", _table, "required", True)
    draw = command("draw", "draw the graph, labelled with values and adjoints at a point",
                   _draw, "optional", False)
    draw.add_argument("-o", "--output", required=True, metavar="FILE",
                      help="graph.dot (no dependency), graph.png or graph.svg (matplotlib)")
    page = command("html", "write an interactive page that steps through the forward and backward "
                   "pass at a point", _html, "optional", False)
    page.add_argument("-o", "--output", required=True, metavar="FILE",
                      help="the page to write, e.g. quiz.html")
    add_practice_options(page)
    check = command("check", "compare with SymPy and finite differences, and compare derivative "
                    "sizes", _check, "repeat", True)
    check.epilog += CHECK_EXIT_STATUS
    hessian = command("hessian", "print forward-over-reverse Hessian code and the Hessian at a "
                      "point", _hessian, "required", True)
    jacobian = command("jacobian", "print the Jacobian code of several formulas (forward or "
                       "reverse mode, whichever has fewer operations) and the Jacobian at a point",
                       _jacobian, "required", True, several=True)
    for p in (grad, code, hessian, jacobian):
        p.add_argument("--backend", choices=backend_names(), default=PYTHON, help=BACKEND_HELP)
    return parser


BROKEN_PIPE = 141  # what a shell reports for a command ended by SIGPIPE (128 + 13)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except GraphcError as exc:
        print(f"graphc: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`graphc check ... | head`): stop quietly,
        try:  # with the rest of standard output sent to the null device, not to the pipe
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # no file descriptor (captured): nothing left to flush
            pass
        return BROKEN_PIPE
