"""Prove that a generated source is only straight-line arithmetic, before anyone runs it.

graphc prints code from its graph, never from the user's text: a user's name reaches the code
only as an identifier that :mod:`graphc.backends.naming` has checked (or in a comment, escaped), and
every operation prints from the op table. :func:`check_source` verifies that promise on the
result. It parses the source and accepts exactly one shape of program:

- one ``def`` with plain positional parameters, no defaults, no decorators; or, for a long
  program (:mod:`graphc.backends.chunking`), a main ``def`` whose statements each call one of the
  ``def``-s after it, once, on names bound before, and name its results, and parts that may
  begin by unpacking earlier parts' results (``a, _, b = r1``) into fresh names;
- assignments of an expression to a fresh plain name, ``del`` of names bound before (numpy
  code releases arrays after their last use), then one ``return``;
- expressions made of numbers, names already bound, ``+ - * / ** @``, unary ``-``, the
  comparisons ``> < ==``, the select ``a if c else b`` (a conditional expression: it chooses a
  value, as ``np.where`` does, and evaluates only the side it chooses, so that sigmoid needs
  one ``exp``; statements stay straight-line), and calls without keywords of the functions the
  op table prints
  (``math.exp``, ``np.maximum``, ``max``, ``float``, ...), which are collected from the op
  table itself, so a new op needs no edit here;
- in code with vectors and matrices, also what the tensor ops print on an operand: the
  attributes and methods they use (``a.T``, ``a.shape[0]``, ``a.sum(axis=1)``, likewise
  collected from the op table), with an ``axis=`` keyword of integers only, index
  expressions of integers, ``:`` and ``None`` (``a[:, None]``), and tuples of integers and
  names as call arguments (``np.broadcast_to(a, (n, 3))``).

No other attribute, no other subscript, no strings, lambdas, comprehensions, imports or other
statements. The tests and the fuzz target run the code of
every fuzzed formula through it. graphc does not run it on every compile: building Python's
syntax tree costs about twice as much as compiling the source (30 s against 12 s for the
300 000 lines of a 100 000-deep formula's gradient), so it is a check for tests and for
callers who want it (``graphc.backends.safety.check_source(f.source("grad"))``).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import NoReturn

from graphc.backends.registry import BACKENDS, MODULE_ALIASES
from graphc.errors import GraphcError
from graphc.ops import CONSTANT_PRINT, OPS, TENSOR_OPS

#: The module aliases generated code may use: derived from the backends and the op records.
MODULES = tuple(sorted(MODULE_ALIASES))
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult)
_COMPARISONS = (ast.Gt, ast.Lt, ast.Eq)


class UnsafeSource(GraphcError):
    """Generated code that is not the straight-line arithmetic graphc promises (a graphc bug)."""


@lru_cache(maxsize=None)
def operand_attributes() -> frozenset:
    """The attributes and methods that tensor ops print on an operand (``T``, ``sum``, ...)."""
    found = set()
    for op in TENSOR_OPS:
        if not op.numpy:
            continue
        for args in (["a"], ["a", "1"], ["a", "1", "2"]):
            try:
                text = op.print("numpy", args, array=True)
                tree = ast.parse(text, mode="eval")
            except (IndexError, KeyError, ValueError, SyntaxError):
                continue
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                        and node.value.id == "a"):
                    found.add(node.attr)
    return frozenset(found)


@lru_cache(maxsize=None)
def allowed() -> tuple[frozenset, frozenset]:
    """The ``module.attribute`` pairs and the builtin names that op printers use."""
    attributes: set[tuple[str, str]] = set()
    builtins: set[str] = set()
    python = [backend for backend in BACKENDS.values() if backend.python]
    texts = [backend.print(op, args[: op.arity]) for op in OPS
             for backend in python for args in (["a", "b"], ["2", "3"])]
    texts += [backend.constant(name) for name in CONSTANT_PRINT for backend in python]
    # Besides the printers: infinities and nan as literals, and a backend's wrap of constants.
    for backend in python:
        texts += [backend.inf, backend.nan]
        if backend.literal_operand:
            texts.append(backend.literal_operand("2"))
    # What the tensor ops print in array code (on the backends that run matrices).
    for backend in (b for b in python if b.matrices):
        for op in TENSOR_OPS:
            for args in (["a", "b"], ["a", "1"], ["a", "1", "2"]):
                try:
                    texts.append(backend.print(op, args[: max(op.arity, 1)], array=True))
                except (GraphcError, IndexError, KeyError, ValueError):
                    continue
    for text in texts:
        for node in ast.walk(ast.parse(text, mode="eval")):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                attributes.add((node.value.id, node.attr))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                builtins.add(node.func.id)
    return frozenset(attributes), frozenset(builtins)


def check_source(source: str) -> None:
    """Raise :class:`UnsafeSource` unless ``source`` is a straight-line graphc function."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise UnsafeSource(f"generated code does not parse: {exc}") from None
    check_tree(tree)


def check_tree(tree: ast.Module) -> None:
    """:func:`check_source` on an already parsed module."""
    functions = [f for f in tree.body if isinstance(f, ast.FunctionDef)]
    if not tree.body or len(functions) != len(tree.body):
        _fail(tree, "the module must be function definitions only")
    main, *parts = functions
    if parts:  # a long program: a main function calling its parts (graphc.backends.chunking)
        _check_main(main, {part.name for part in parts})
    else:
        _check_function(main)
    for part in parts:
        _check_function(part)


def _check_main(function: ast.FunctionDef, parts: set[str]) -> None:
    """The main function of a long program: each statement calls a part on bound names and
    names its results, or ``del``-etes results no later part reads."""
    _, builtins = allowed()
    bound = _parameters(function, builtins)
    if bound & parts or len(parts) != len(function.body) - sum(
            isinstance(s, ast.Delete) for s in function.body):
        _fail(function, "the main function calls each part once, and no name is a part's")
    *statements, last = function.body
    for statement in statements:
        if isinstance(statement, ast.Delete):
            _delete(statement, bound, set())
            continue
        value = statement.value if isinstance(statement, (ast.Assign, ast.Expr)) else None
        _check_part_call(value, parts, bound)
        if isinstance(statement, ast.Assign):
            (target,) = statement.targets
            if not isinstance(target, ast.Name):
                _fail(statement, "a part's results are assigned to one plain name")
            _fresh(target.id, bound, builtins, statement)
    if not isinstance(last, ast.Return):
        _fail(last, "the main function returns what its last part returns")
    _check_part_call(last.value, parts, bound)


def _check_part_call(value, parts: set[str], bound: set) -> None:
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id in parts and not value.keywords
            and all(isinstance(a, ast.Name) and a.id in bound for a in value.args)):
        _fail(value, "the main function only calls its parts on names bound before")
    parts.discard(value.func.id)


def _parameters(function: ast.FunctionDef, builtins: frozenset) -> set:
    arguments = function.args
    if (function.decorator_list or function.returns or arguments.posonlyargs or arguments.vararg
            or arguments.kwonlyargs or arguments.kwarg or arguments.defaults):
        _fail(function, "the function must take plain positional parameters only")
    bound: set[str] = set()
    for argument in arguments.args:
        _fresh(argument.arg, bound, builtins, argument)
        if argument.annotation is not None:
            _fail(argument, "parameters carry no annotations")
    return bound


def _delete(statement: ast.Delete, bound: set, released: set) -> None:
    for target in statement.targets:
        if not isinstance(target, ast.Name) or target.id not in bound:
            _fail(statement, "del releases only names bound before")
        bound.discard(target.id)
        released.add(target.id)


def _check_function(function: ast.FunctionDef) -> None:
    """One straight-line function: assignments, ``del`` and a ``return``."""
    attributes, builtins = allowed()
    bound = _parameters(function, builtins)
    *assignments, last = function.body
    released: set[str] = set()
    for statement in assignments:
        if isinstance(statement, ast.Delete):
            _delete(statement, bound, released)
            continue
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Tuple)):
            _unpacking(statement, statement.targets[0], bound, builtins)
            continue
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            _fail(statement, "every statement but the last assigns one name or dels names")
        _check_expression(statement.value, bound, attributes, builtins)
        if statement.targets[0].id in released:
            _fail(statement, f"the name {statement.targets[0].id!r} is bound again after del")
        _fresh(statement.targets[0].id, bound, builtins, statement)
    if not isinstance(last, ast.Return) or last.value is None:
        _fail(last, "the last statement returns the results")
    _check_expression(last.value, bound, attributes, builtins, tuples=True)


def _unpacking(statement: ast.Assign, targets: ast.Tuple, bound: set, builtins: frozenset) -> None:
    """A part of a long program takes an earlier part's results: ``a, _, b = r1`` (``targets``
    is the statement's one target). Names of underscores only are values it does not read:
    never bound, so never read."""
    value = statement.value
    if not (isinstance(value, ast.Name) and value.id in bound):
        _fail(statement, "only a parameter (an earlier part's results) is unpacked")
    for target in targets.elts:
        if not isinstance(target, ast.Name):
            _fail(statement, "a part's results unpack into plain names")
        if target.id.strip("_") == "" and target.id not in bound:
            continue
        _fresh(target.id, bound, builtins, statement)


def _fresh(name: str, bound: set, builtins: frozenset, where: ast.AST) -> None:
    if name in bound or name in MODULES or name in builtins:
        _fail(where, f"the name {name!r} is bound twice or shadows a module or builtin")
    bound.add(name)


def _check_expression(root: ast.expr, bound: set, attributes: frozenset, builtins: frozenset,
                      tuples: bool = False) -> None:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
            stack += [node.left, node.right]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            stack.append(node.operand)
        elif isinstance(node, ast.IfExp):
            stack += [node.test, node.body, node.orelse]
        elif (isinstance(node, ast.Compare) and len(node.ops) == 1
              and isinstance(node.ops[0], _COMPARISONS)):
            stack += [node.left, *node.comparators]
        elif isinstance(node, ast.Call):
            method = isinstance(node.func, ast.Attribute) and not _is_allowed_attribute(
                node.func, attributes)
            if method:  # a tensor op's method on an operand: a.sum(axis=1)
                stack.append(node.func)
            elif not (_is_allowed_attribute(node.func, attributes)
                      or (isinstance(node.func, ast.Name) and node.func.id in builtins)):
                _fail(node, "a call of something the op table does not print")
            for keyword in node.keywords:
                if not (method and keyword.arg == "axis" and _integers(keyword.value)):
                    _fail(node, "a keyword argument other than an integer axis of a method")
            for argument in node.args:  # a shape (n, 3) as an argument: its entries
                stack += argument.elts if isinstance(argument, ast.Tuple) else [argument]
        elif isinstance(node, ast.Attribute):
            if _is_allowed_attribute(node, attributes):
                pass
            elif node.attr in operand_attributes() and isinstance(node.ctx, ast.Load):
                stack.append(node.value)
            else:
                _fail(node, "an attribute the op table does not print")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if not _index(node.slice):
                _fail(node, "an index other than integers, ':' and None")
            stack.append(node.value)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in bound:
                _fail(node, f"the name {node.id!r} is not bound before it is used")
        elif (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
            pass
        elif tuples and node is root and isinstance(node, ast.Tuple):
            for element in node.elts:
                if isinstance(element, ast.Tuple):
                    stack += element.elts
                else:
                    stack.append(element)
        else:
            _fail(node, f"{type(node).__name__} is not straight-line arithmetic")


def _integers(node: ast.expr) -> bool:
    """An integer literal (negative too), or a tuple of them."""
    if isinstance(node, ast.Tuple):
        return all(_integers(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _index(node: ast.expr) -> bool:
    """An index of integers, bare ``:`` and ``None``: ``[0]``, ``[:, None]``."""
    parts = node.elts if isinstance(node, ast.Tuple) else [node]
    return all(_integers(p) or (isinstance(p, ast.Constant) and p.value is None)
               or (isinstance(p, ast.Slice) and p.lower is None and p.upper is None
                   and p.step is None) for p in parts)


def _is_allowed_attribute(node: ast.expr, attributes: frozenset) -> bool:
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and isinstance(node.ctx, ast.Load) and (node.value.id, node.attr) in attributes)


def _fail(node: ast.AST, reason: str) -> NoReturn:
    line = getattr(node, "lineno", "?")
    raise UnsafeSource(f"generated code rejected at line {line}: {reason}")
