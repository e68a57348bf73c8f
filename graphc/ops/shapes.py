"""Shapes of vectors and matrices: declaring them, printing them, and numpy's broadcasting rule.

A shape is a tuple of sizes, ``()`` for a scalar, ``(3,)`` for a vector, ``(3, 4)`` for a matrix.
A size is a positive ``int`` or a name such as ``"n"``: a named size is fixed only when the
function is called (a batch of any length), and two sizes with the same name are the same size.
Shape inference therefore treats a named size as unknown but definite: it matches itself and
broadcasts against 1, and it does not match a number or another name.

Every op has a shape rule (see :mod:`graphc.ops.tensor`); elementwise ops use :func:`broadcast`.
A rule that cannot give a shape raises :class:`ShapeError` with what went wrong; the compiler
turns that into a :class:`~graphc.errors.ParseError` pointing at the subexpression.
"""

from __future__ import annotations

from typing import Mapping, Union

from graphc.errors import GraphcError

Size = Union[int, str]
Shape = tuple  # of Size


class ShapeError(GraphcError):
    """Operands whose shapes do not fit the operation; the message says what should hold."""


def shape_text(shape: Shape) -> str:
    """``(3, 4)``, ``(4,)``, ``()`` and ``(n, 3)``: Python's tuple notation, names unquoted."""
    inner = ", ".join(str(size) for size in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def broadcast(*shapes: Shape) -> Shape:
    """The shape of an elementwise result, by numpy's rule: align on the right, 1 stretches."""
    rank = max(len(s) for s in shapes)
    out = []
    for k in range(-rank, 0):
        size = 1
        for shape in shapes:
            if -k > len(shape):
                continue
            other = shape[k]
            if other == size or other == 1:
                continue
            if size != 1:
                raise ShapeError(f"sizes {size} and {other} do not broadcast: elementwise "
                                 f"operands need equal sizes, or 1, in each axis from the right")
            size = other
        out.append(size)
    return tuple(out)


def declared(shapes: Mapping | None) -> dict[str, Shape]:
    """Check a ``shapes={"x": (3,), "A": (3, 4), "X": ("n", 3)}`` argument; return it tidied."""
    if shapes is None:
        return {}
    if not isinstance(shapes, Mapping):
        raise GraphcError("shapes maps variable names to shapes, "
                          "as in shapes={'x': (3,), 'A': (3, 4)}")
    tidy: dict[str, Shape] = {}
    for name, shape in shapes.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise GraphcError(f"shapes: {name!r} is not a variable name")
        if isinstance(shape, (int, str)):
            shape = (shape,)
        if not isinstance(shape, (tuple, list)):
            raise GraphcError(f"shapes: the shape of {name} is a tuple of sizes such as (3, 4), "
                              f"not {shape!r}")
        sizes = []
        for size in shape:
            if isinstance(size, bool) or not isinstance(size, (int, str)):
                raise GraphcError(f"shapes: a size is a positive whole number or a name such as "
                                  f"'n', not {size!r} (in the shape of {name})")
            if isinstance(size, int) and size < 1:
                raise GraphcError(f"shapes: sizes are at least 1, not {size} "
                                  f"(in the shape of {name})")
            if isinstance(size, str) and not size.isidentifier():
                raise GraphcError(f"shapes: a named size is an identifier such as 'n' or 'batch', "
                                  f"not {size!r} (in the shape of {name})")
            sizes.append(size)
        if len(sizes) > 2:
            raise GraphcError(f"shapes: {name} has {len(sizes)} axes; graphc handles scalars, "
                              f"vectors and matrices (at most 2 axes)")
        tidy[name] = tuple(sizes)
    return tidy


def named_sizes(shapes: Mapping[str, Shape]) -> dict[str, tuple[str, int]]:
    """Each named size and where it is first declared: ``{"n": ("X", 0)}``."""
    where: dict[str, tuple[str, int]] = {}
    for name, shape in shapes.items():
        for axis, size in enumerate(shape):
            if isinstance(size, str):
                where.setdefault(size, (name, axis))
    return where


def bind(expected: Mapping[str, Shape], actual: Mapping[str, tuple]) -> dict[str, int]:
    """Check arrays' shapes against the declared ones; return the value of each named size."""
    sizes: dict[str, int] = {}
    seen_in: dict[str, str] = {}
    for name, want in expected.items():
        have = actual[name]
        if len(have) != len(want) or any(isinstance(w, int) and w != h for w, h in zip(want, have)):
            what = "be a scalar" if not want else f"have shape {shape_text(want)}"
            raise GraphcError(f"{name} should {what} but has shape {tuple(have)}")
        for size, value in zip(want, have):
            if isinstance(size, str):
                if size in sizes and sizes[size] != value:
                    raise GraphcError(
                        f"the size {size} is {sizes[size]} in {seen_in[size]} but {value} in "
                        f"{name}; arrays that share a named size must agree on it")
                sizes.setdefault(size, value)
                seen_in.setdefault(size, name)
    return sizes
