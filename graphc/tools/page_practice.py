"""The page's practice mode: the exercise a student fills in, and a point for each student.

``f.html(2, 3, practice=True)`` (``graphc html FORMULA --at x=2,z=3 --practice``) writes the page
with its forward and backward tables empty. :func:`exercise` is what the page needs to check the
student: graphc's value of every entry (from :func:`graphc.tools.tables.build`, the numbers of
``f.table``), the rule of each line with the names of its inputs (the hint), and which entries
must be known first (a value needs the values of its inputs; an adjoint needs the adjoint of
every use of it and the values its chain-rule terms read). The page checks an entry to a number
of significant digits the student can change (4 by default) and keeps the progress in the
browser; nothing is sent anywhere.

:func:`random_point` picks a point where every op of the formula is defined, for a teacher who
wants each student to get other numbers; a seed makes it repeatable.
"""

from __future__ import annotations

import math
import random

import numpy as np

from graphc.errors import GraphcError
from graphc.tools import page_model, tables

DIGITS = 4              # an entry is right when it agrees with graphc's to this many digits
TRIES = 400             # random points tried before giving up
#: The magnitudes a random point is drawn from: one decimal, easy to work with by hand.
LOW, HIGH = 0.2, 3.0


def exercise(f, page_data: dict, args=(), kwargs=None) -> dict:
    """Answers, hints and dependencies of every entry of the page's tables."""
    kwargs = kwargs or {}
    if page_data["tensor"]:
        entries = _tensor_entries(f, page_data, dict(zip(f.variables, f._bind(args, kwargs))))
        point_text = "arrays"
    else:
        point = dict(zip(f.variables, tables.point_of(f, args, kwargs)))
        entries = _scalar_entries(f, page_data, point)
        point_text = ", ".join(f"{k}={v!r}" for k, v in point.items())
    for entry in entries:
        if not all(math.isfinite(v) for v in np.ravel(entry["answer"])):
            raise GraphcError(f"{entry['name']} is not finite at this point: pick a point "
                              "where every value and adjoint is a finite number")
    asked = {e["name"] for e in entries}
    gradient = [f"b_{v}" for v in f.variables if f"b_{v}" in asked]
    return {"entries": entries, "gradient": gradient, "digits": DIGITS,
            "key": f.formula + " at " + point_text}


def _scalar_entries(f, page_data: dict, point: dict) -> list:
    table = tables.build(f, tuple(point.values()))
    graph = f.ir
    given = set(f.variables)
    name_of = dict(zip(page_data["inputs"], f.variables))
    name_of.update((step["node"], step["name"]) for step in page_data["forward"])
    value = {r.name: r.value for r in table.forward}
    entries = []
    for step in page_data["forward"]:
        needs = sorted({name_of[a] for a in graph.args(step["node"]) if a in name_of} - given)
        entries.append(_entry(step["name"], "forward", step["node"], value[step["name"]],
                              f"{step['name']} = {step['operation']}", needs))
    adjoint = {r.name: r.value for r in table.backward}
    for step in page_data["backward"]:
        if step["accumulated"] == tables.NOT_ASKED:
            continue
        needs = sorted({n for term in step["terms"] for n in term["needs"]} - given)
        entries.append(_entry(step["name"], "backward", step["node"], adjoint[step["name"]],
                              f"{step['name']} = {step['accumulated']}", needs))
    return entries


def _entry(name, kind, node, answer, rule, needs) -> dict:
    return {"name": name, "pass": kind, "node": node, "answer": answer,
            "text": tables.number(answer), "rule": rule, "needs": needs}


def _tensor_entries(f, page_data: dict, point: dict) -> list:
    """For vectors and matrices each value and adjoint is two entries: its shape, then its
    entries (row by row); the second needs the first."""
    graph = f.ir
    within = graph.ancestors([f.output])
    adjoint_of = f._adjoints.of
    values = page_model.tensor_values(f, point, within, adjoint_of)
    given = set(f.variables)
    name_of = dict(zip(page_data["inputs"], f.variables))
    name_of.update((step["node"], step["name"]) for step in page_data["forward"])
    users: dict = {}
    for step in page_data["forward"]:
        for a in graph.args(step["node"]):
            users.setdefault(a, []).append(step["node"])
    row_of = {step["node"]: step["name"] for step in page_data["backward"]}
    entries = []
    for step in page_data["forward"]:
        needs = sorted({name_of[a] for a in graph.args(step["node"]) if a in name_of} - given)
        entries += _pair(step["name"], "forward", step["node"], values[step["node"]],
                         f"{step['name']} = {step['operation']}", needs)
    for step in page_data["backward"]:
        node = step["node"]
        adjoint = step["adjoint"]
        answer = values[adjoint] if adjoint is not None else np.zeros(np.shape(values[node]))
        answer = np.broadcast_to(answer, np.shape(values[node]))  # a folded constant seed
        wanted = {row_of[u] for u in users.get(node, []) if u in row_of}
        wanted |= {name_of[node]} - given if node in name_of else set()
        rule = f"{step['name']} = {step['accumulated']}"
        entries += _pair(step["name"], "backward", node, answer, rule, sorted(wanted))
    return entries


def _pair(name, kind, node, value, rule, needs) -> list:
    array = np.asarray(value, dtype=float)
    shape = list(array.shape)
    flat = [float(v) for v in array.ravel()]
    of = name[2:] if kind == "backward" else None
    shape_rule = (f"an adjoint has the shape of its value: {name} is shaped like {of}"
                  if of else rule)
    return [{"name": name + ".shape", "pass": kind, "node": node, "kind": "shape",
             "answer": shape, "text": page_model.shape_text(shape), "rule": shape_rule,
             "needs": needs},
            {"name": name, "pass": kind, "node": node, "kind": "array", "answer": flat,
             "shape": shape, "text": ", ".join(tables.number(v) for v in flat),
             "short": (f"norm {float(np.linalg.norm(array)):.6g}" if array.ndim
                       else f"{float(array):.6g}"),
             "rule": rule, "needs": [*needs, name + ".shape"]}]


def random_point(f, seed: int | None = None) -> dict[str, float]:
    """A point where every op of ``f`` and of its gradient is defined and finite: each variable a
    number of one decimal, ``LOW`` to ``HIGH`` in size, either sign (positive ones are tried
    harder: most domains are there). The same seed gives the same point."""
    if f.tensor:
        raise GraphcError("a random point is picked for scalar variables only; give the vectors "
                          "and matrices with --at (or as arguments)")
    rng = random.Random(seed)
    for attempt in range(TRIES):
        signs = attempt < TRIES // 2  # half the tries with either sign, then positive only
        point = {v: round(rng.uniform(LOW, HIGH), 1) * (rng.choice((-1, 1)) if signs else 1)
                 for v in f.variables}
        try:
            table = tables.build(f, tuple(point.values()))
        except GraphcError:
            continue
        values = [r.value for r in table.forward] + [r.value for r in table.backward]
        if all(math.isfinite(v) for v in values):
            return point
    raise GraphcError(f"no point found in {TRIES} tries (each variable {LOW} to {HIGH} in size, "
                      "one decimal) where every op is defined; give the point with --at")
