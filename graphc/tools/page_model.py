"""The page's data model: what the interactive page of :mod:`graphc.tools.page` shows, as data.

:func:`data` gathers, for a compiled function at a point, the generated code (each line tied to
the node it assigns), the forward and backward steps (each with its code lines and, going
backward, the chain-rule term each arrow adds), the program the page's script evaluates (the
graph's nodes as instructions), each box's record, and the graph's picture with each box sized
for a value and an adjoint. For vectors and matrices the values come from running graphc's numpy
code here (:func:`summary` of each). Writing this as HTML is :mod:`graphc.tools.page`'s job.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from graphc.errors import GraphcError
from graphc.graph.graph import Graph, Node
from graphc.tools import tables
from graphc.tools.drawing import picture as draw_picture

NODE_LIMIT = 400        # beyond this the page is unreadable; write a picture or the tables
VALUE_CHARS = 12        # room in a box for a value printed with six digits (-1.23457e-05)
_LINE = re.compile(r"^\s+([A-Za-z_]\w*) = ")
#: The ops the page's script computes (``page_assets/evaluate.js``; a browser test holds the two
#: to the same list, and to graphc's scalar ops). A graph with another op shows graphc's values
#: at its point, with the inputs fixed.
PAGE_OPS = frozenset({
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "sin", "cos", "tan", "cot",
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "softplus", "log_sigmoid", "relu",
    "abs", "max", "min", "sign", "step", "replace_zero", "erf", "erfc", "sigmoid_complement",
    "tanh_derivative", "mul0", "div0"})


# ------------------------------------------------------------------------------ the data
def data(f, args=(), kwargs=None) -> dict:
    """Everything the page shows, as plain data: code, graph, steps, the program to evaluate;
    under ``"picture"`` the graph's picture with each box sized for its value and adjoint (the
    one entry that is not plain data: :mod:`graphc.tools.page` draws it and leaves it out of the
    page's JSON)."""
    kwargs = kwargs or {}
    graph: Graph = f.ir
    tensor = f.tensor
    if tensor:
        point = dict(zip(f.variables, f._bind(args, kwargs)))
    else:
        point = dict(zip(f.variables, tables.point_of(f, args, kwargs)))
    gradient = f.gradient_nodes()
    adjoint_of = f._adjoints.of
    names = f.code_names("value_and_grad")
    backend = "numpy" if tensor else "math"
    source = f.source("value_and_grad", backend, style="assign")
    within = graph.ancestors([f.output])
    if len(within) > NODE_LIMIT:
        raise GraphcError(f"the graph has {len(within)} nodes, too many for a readable page "
                          f"(at most {NODE_LIMIT}); use f.table or f.draw(\"graph.dot\")")
    node_of_name = {name: node for node, name in names.items()}
    code: list[dict] = []
    defined: dict[Node, int] = {}
    section = "forward"
    for text in source.splitlines():
        if text.strip() == "# backward":
            section = "backward"
        match = _LINE.match(text)
        node = node_of_name.get(match.group(1)) if match else None
        if node is not None:
            defined[node] = len(code)
        code.append({"text": text, "node": node, "section": section})
    backward_lines = {n for n, i in defined.items() if code[i]["section"] == "backward"}

    if tensor:
        forward_rows, backward_rows = _tensor_rows(f, names, within, adjoint_of, code, defined)
        term_program, scratch, refs = [], None, None
    else:
        forward_rows, backward_rows, scratch, refs = _rows(f, point, names, within, adjoint_of)
        term_program = _term_program(scratch, refs)
    of_name = {names[n]: n for n in [*f.inputs, *within] if n in names}

    covered: set = set()
    forward = [{"node": of_name[r["name"]], "name": r["name"], "operation": r["operation"],
                "lines": [defined[of_name[r["name"]]]] if of_name[r["name"]] in defined else []}
               for r in forward_rows if r["operation"] != "input"]
    picture = draw_picture(f)
    edge_slots: dict = {}
    for k, edge in enumerate(picture.edges):
        edge_slots.setdefault(edge, []).append(k)
    backward = []
    for r in backward_rows:
        node = of_name[r["of"]]
        adjoint = adjoint_of.get(node)
        lines = sorted(defined[n] for n in _newly_needed(graph, adjoint, backward_lines, covered))
        terms = []
        for term in r.get("terms", []):  # an arrow node -> user carries one term (x*x: two)
            ks = edge_slots.get((node, term["user"]), [])
            terms.append({**term, "edge": ks.pop(0) if ks else None})
        backward.append({**r, "node": node, "adjoint": adjoint, "lines": lines, "terms": terms})

    known = set(within)
    program = [] if tensor else [_instruction(graph, n) for n in graph.ancestors(
        [f.output, *gradient, *(a for n, a in adjoint_of.items() if n in known)])]
    nodes, laid = _boxes(f, picture, names, adjoint_of, backward_rows)
    missing = sorted({i[2] for i in program + term_program if i[1] == "o"} - PAGE_OPS)
    return {
        "formula": f.formula, "variables": list(f.variables), "tensor": tensor,
        "point": [float(v) for v in point.values()] if not tensor else None,
        "inputs": [node for node in f.inputs], "output": names.get(f.output, ""),
        "code": code, "forward": forward, "backward": backward, "nodes": nodes,
        "program": program, "terms": term_program,
        "python": _python_values(f, point, within, adjoint_of) if tensor else None,
        "fixed": _fixed(f, point, program, scratch, refs, missing) if missing else None,
        "picture": laid,
    }


def _instruction(graph: Graph, node) -> list:
    kind = graph.kind(node)
    if kind == "const":
        return [node, "c", graph.value(node)]
    if kind == "input":
        return [node, "i", graph.name(node)]
    return [node, "o", graph.op_of(node).name, list(graph.args(node))]


def _newly_needed(graph: Graph, root, backward_lines: set, covered: set) -> list:
    """The backward code lines an adjoint needs that no earlier step showed (marks them)."""
    found, stack = [], [root] if root is not None else []
    while stack:
        node = stack.pop()
        if node in covered or node not in backward_lines:
            continue
        covered.add(node)
        found.append(node)
        stack.extend(graph.args(node))
    return found


def _rows(f, point, names, within, adjoint_of):
    """The scalar tables, with each backward row's chain-rule terms as nodes of a scratch graph."""
    table = tables.build(f, tuple(point.values()))
    graph = f.ir
    active = graph.dependents(f.inputs, within)
    uses = tables.contributions(graph, within, active, adjoint_of)
    of_name = {names[n]: n for n in [*f.inputs, *within] if n in names}
    row_name = {of_name[r.of]: r.name for r in table.backward}
    scratch = Graph()
    backward = []
    for r in table.backward:
        node = of_name[r.of]
        terms, accumulated = [], r.accumulated
        if node in f.inputs and node not in f._wrt:  # the code leaves this adjoint out
            accumulated = tables.NOT_ASKED
        elif node != f.output:
            for user, i in uses.get(node, []):
                term = tables.chain_term(graph, scratch, user, i, names, row_name)
                needs = {scratch.input_name(n) for n in scratch.ancestors([term])
                         if scratch.kind(n) == "input"} | {row_name[user]}
                terms.append({"user": user, "text": tables.infix(scratch, term), "term": term,
                              "needs": sorted(needs)})
        backward.append({"name": r.name, "of": r.of, "accumulated": accumulated,
                         "code": r.code, "terms": terms})
    forward = [{"name": r.name, "operation": r.operation} for r in table.forward]
    # placeholders of the scratch graph: a value (named as in the code) or an adjoint (b_u)
    refs = {}
    for name, node in of_name.items():
        refs[name] = ["v", node]
    for node, name in row_name.items():
        adjoint = adjoint_of.get(node)
        refs[name] = ["v", adjoint] if adjoint is not None else ["c", 0.0]
    return forward, backward, scratch, refs


def _term_program(scratch: Graph, refs: dict) -> list:
    """The chain-rule terms' scratch graph as instructions; an input refers to the main graph."""
    program = []
    for node in range(len(scratch.columns()[0])):
        if scratch.kind(node) == "input":
            program.append([node, "r", refs[scratch.name(node)]])
        else:
            program.append(_instruction(scratch, node))
    return program


def _fixed(f, point, program, scratch, refs, missing) -> dict:
    """graphc's values of the page's program and terms at the point, for a graph with an op the
    page's script does not compute."""
    graph = f.ir
    inputs = dict(zip(f.inputs, point.values()))
    values = tables.evaluate(graph, [i[0] for i in program], inputs)
    placeholders = {}
    for node in range(len(scratch.columns()[0])):
        if scratch.kind(node) == "input":
            kind, ref = refs[scratch.name(node)]
            placeholders[node] = values[ref] if kind == "v" else ref
    terms = tables.evaluate(scratch, list(range(len(scratch.columns()[0]))), placeholders)
    return {"missing": missing, "values": {str(k): v for k, v in values.items()},
            "terms": {str(k): v for k, v in terms.items()}}


def _tensor_rows(f, names, within, adjoint_of, code, defined):
    """Rows for code with vectors and matrices: each value and each adjoint, as the code has it."""
    graph = f.ir
    forward = [{"name": names[n], "operation": "input"} for n in f.inputs]
    forward += [{"name": names[n], "operation": tables.operation(graph, n, names)}
                for n in within if graph.kind(n) == "op" and n in names]
    backward = []
    order = [n for n in reversed(within) if n in adjoint_of and graph.kind(n) == "op"]
    order += [n for n in f.inputs if n in adjoint_of]
    for node in order:
        adjoint = adjoint_of[node]
        if adjoint in defined:
            text = code[defined[adjoint]]["text"].split(" = ", 1)[1].split("#")[0].strip()
            held = names[adjoint]
        elif graph.kind(adjoint) == "const":
            text = held = tables.number(graph.value(adjoint))
        else:
            text, held = "(folded into later lines)", ""
        backward.append({"name": f"b_{names[node]}", "of": names[node], "accumulated": text,
                         "code": held, "terms": []})
    return forward, backward


# ------------------------------------------------------------------------ values in Python
def summary(value) -> str:
    """A value as the page prints it: ten digits for a number; shape, norm, entries for arrays."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return tables.number(float(array))
    flat = array.ravel()
    entries = ", ".join(f"{v:.4g}" for v in flat[:4]) + (", ..." if flat.size > 4 else "")
    shape = "(" + ", ".join(map(str, array.shape)) + ("," if array.ndim == 1 else "") + ")"
    return f"shape {shape}, norm {float(np.linalg.norm(flat)):.6g}, [{entries}]"


def _python_values(f, point, within, adjoint_of) -> dict:
    """Every value and adjoint at the point, summarised (for vectors and matrices)."""
    return {str(k): summary(v) for k, v in tensor_values(f, point, within, adjoint_of).items()}


def tensor_values(f, point, within, adjoint_of) -> dict:
    """Every value and adjoint at the point as arrays: graphc's numpy code, printed with each of
    them as an output."""
    from graphc.backends import printing, registry
    from graphc.backends.scheduling import Program

    graph = f.ir
    known = set(within)
    wanted = [n for n in dict.fromkeys([*within, *(a for n, a in adjoint_of.items() if n in known
                                                    or n in f.inputs)])
              if graph.kind(n) == "op"]
    adjoints = {p: a for p, a in adjoint_of.items() if p in f._primal}
    returns = "(" + "".join(f"{{{i}}}, " for i in range(len(wanted))) + ")"
    program = Program("page_values", list(f.inputs), wanted, returns, f._primal,
                      adjoints=adjoints)
    source = printing.emit(graph, program, f._names, "numpy")
    results = registry.get("numpy").compile(source, "page_values", "page")(*point.values())
    out = dict(zip(wanted, results))
    out.update(zip(f.inputs, point.values()))
    for adjoint in adjoint_of.values():
        if graph.kind(adjoint) == "const":
            out[adjoint] = graph.value(adjoint)
    return out


# ---------------------------------------------------------------------------- the boxes
def _boxes(f, picture, names, adjoint_of, backward_rows):
    """Each box's record for the page, and the picture with each box sized for its lines."""
    graph = f.ir
    adjoint_name = {r["of"]: r["name"] for r in backward_rows}
    nodes, sized = {}, []
    for box in picture.nodes:
        node, label = box.node, box.lines[0]
        shape = graph.shape(node)
        span = graph.attrs(node).get("span")
        name = names.get(node, label)
        lines = [label]
        room = VALUE_CHARS + (5 if f.tensor else 0)  # an array shows "norm " and its norm
        if box.kind != "const":
            lines += ["= ".ljust(2 + room)]
            if name in adjoint_name:
                lines.append(f"{adjoint_name[name]} = ".ljust(len(adjoint_name[name]) + 3 + room))
        if shape:
            lines.insert(1, "shape " + shape_text(shape))
        nodes[node] = {"name": name, "label": label, "kind": box.kind,
                       "shape": shape_text(shape) if shape else "",
                       "span": f.formula[span[0]:span[1]] if span else "",
                       "adjoint_name": adjoint_name.get(name, ""),
                       "adjoint": adjoint_of.get(node)}
        sized.append(dataclasses.replace(box, lines=tuple(lines)))
    laid = dataclasses.replace(picture, nodes=tuple(sized), title="")
    if laid.bends is None:
        raise GraphcError("the graph has too many long edges to draw on a page; use f.table")
    return {str(k): v for k, v in nodes.items()}, laid


def shape_text(shape) -> str:
    """A shape as Python prints a tuple: ``(3,)``, ``(3, 4)``."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
