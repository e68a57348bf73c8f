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

from graphc.errors import GraphcError
from graphc.tools import tables

DIGITS = 4              # an entry is right when it agrees with graphc's to this many digits
TRIES = 400             # random points tried before giving up
#: The magnitudes a random point is drawn from: one decimal, easy to work with by hand.
LOW, HIGH = 0.2, 3.0


def exercise(f, page_data: dict, point: dict) -> dict:
    """Answers, hints and dependencies of every entry of the page's tables (scalar formulas)."""
    if page_data["tensor"]:
        raise GraphcError("practice pages are for scalar formulas: the page would ask for whole "
                          "vectors and matrices; use the page without practice=True for this one")
    table = tables.build(f, tuple(point.values()))
    graph = f.ir
    given = list(f.variables)
    name_of = {node: name for node, name in zip(page_data["inputs"], given)}
    name_of.update((step["node"], step["name"]) for step in page_data["forward"])
    value = {r.name: r.value for r in table.forward}
    entries = []
    for step in page_data["forward"]:
        needs = sorted({name_of[a] for a in graph.args(step["node"]) if a in name_of} - set(given))
        entries.append({"name": step["name"], "pass": "forward", "node": step["node"],
                        "answer": value[step["name"]], "text": tables.number(value[step["name"]]),
                        "rule": f"{step['name']} = {step['operation']}", "needs": needs})
    adjoint = {r.name: r.value for r in table.backward}
    for step in page_data["backward"]:
        if step["accumulated"] == tables.NOT_ASKED:
            continue
        needs = sorted({n for term in step["terms"] for n in term["needs"]} - set(given))
        accumulated = step["accumulated"]
        entries.append({"name": step["name"], "pass": "backward", "node": step["node"],
                        "answer": adjoint[step["name"]],
                        "text": tables.number(adjoint[step["name"]]),
                        "rule": f"{step['name']} = {accumulated}", "needs": needs})
    for entry in entries:
        if not math.isfinite(entry["answer"]):
            raise GraphcError(f"{entry['name']} is {entry['answer']} at this point: pick a point "
                              "where every value and adjoint is a finite number")
    asked = {e["name"] for e in entries}
    gradient = [f"b_{v}" for v in given if f"b_{v}" in asked]
    return {"entries": entries, "gradient": gradient, "digits": DIGITS,
            "key": f.formula + " at " + ", ".join(f"{k}={v!r}" for k, v in point.items())}


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
        if all(math.isfinite(r.value) for r in [*table.forward, *table.backward]):
            return point
    raise GraphcError(f"no point found in {TRIES} tries (each variable {LOW} to {HIGH} in size, "
                      "one decimal) where every op is defined; give the point with --at")
