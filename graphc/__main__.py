"""The ``graphc`` command: ``graphc grad FORMULA --at x=2,z=3`` prints gradient code and values."""

from __future__ import annotations

import argparse
import sys

from graphc.compiler import compile as compile_formula
from graphc.errors import GraphcError

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


def parse_point(text: str) -> dict[str, float]:
    """``"x=2,z=3"`` as ``{"x": 2.0, "z": 3.0}``."""
    point = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise GraphcError(f"--at takes name=value pairs such as x=2,z=3, not {item!r}")
        try:
            point[name.strip()] = float(value)
        except ValueError:
            raise GraphcError(f"--at: {value.strip()!r} is not a number (in {item!r})") from None
    return point


def _grad(args) -> int:
    f = compile_formula(args.formula, variables=args.variables)
    f.style = "assign"  # one line per operation, for reading; it is also the code that runs here
    print(f.source("value_and_grad"))
    if args.at is not None:
        point = parse_point(args.at)
        value, gradient = f.value_and_grad(**point)
        print(f"at {', '.join(f'{k} = {v:g}' for k, v in point.items())}:")
        labels = ["value"] + [f"d/d{name}" for name in f.variables]
        width = max(len(label) for label in labels)
        for label, number in zip(labels, [value, *gradient]):
            print(f"  {label:<{width}} = {number!r}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphc", description="Compile formulas to gradient code.")
    sub = parser.add_subparsers(dest="command", required=True)
    grad = sub.add_parser("grad", help="print reverse-mode gradient code and evaluate it",
                          epilog=f'example: graphc grad "{QUIZ}" --at x=2,z=3')
    grad.add_argument("formula")
    grad.add_argument("--at", help="a point, e.g. x=2,z=3")
    grad.add_argument("--var", "--variables", dest="variables",
                      help="declare variables in order, e.g. 'x z' (turns on slide notation)")
    grad.set_defaults(run=_grad)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except GraphcError as exc:
        print(f"graphc: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
