"""Fewer tasks over a data set: a chunk's rows made inside the task that uses them, one sum tree.

A loss over rows made chunk by chunk (``examples/dask_logistic_regression.py``: one task draws
a chunk's X, another makes its y from that X) would cost the scheduler four tasks a chunk: the
two that make the rows, graphc's, and the first step of dask's sum. Each task is a round trip
between a worker and the scheduler, and on a machine whose cores the workers fill, the
scheduler's own work is taken from them. Two changes leave one task a chunk:

- :func:`with_private_inputs`: the tasks that only one chunk's task needs (directly, or through
  others that only it needs: X feeds y and graphc's task, y only graphc's) run inside that
  chunk's task, as dask's own fusion runs a chain of tasks (dask does not fuse a task with two
  dependents, such as X here). A chunk's rows then never leave its task, and a worker holds one
  chunk's rows at a time. A task that other chunks need too, or persisted data, stays apart.
  The tasks are fused as dask fuses its own (``dask._task_spec.Task.fuse``); where the installed
  dask has no such call, or a layer carries annotations (which fusing would drop), the graph
  is left as it is.
- :func:`tree_sum`: the chunks' partial sums added in chunk order, ``SPLIT`` at a time, in a
  tree of tasks that read each chunk's result directly (dask's ``sum`` would first run a task
  per chunk to take its slice).

Limit: the fusion sees graphc's graph only. Computed in one call with something else that needs
the same rows (``dask.compute(value, X.sum())``), the rows are made twice: once in graphc's
tasks and once for the other result (the same numbers, as a dask task's result does not depend
on where it runs).
"""

from __future__ import annotations

import numpy as np

from graphc.backends.scheduling import leaves

#: How many partial sums one task of the tree adds.
SPLIT = 8


def _fuser():
    """dask's ``Task.fuse`` and its node classes, or None where the installed dask lacks them."""
    try:
        from dask._task_spec import GraphNode, Task, convert_legacy_graph
    except ImportError:
        return None
    return (Task, GraphNode, convert_legacy_graph) if hasattr(Task, "fuse") else None


def with_private_inputs(array, da):
    """``array`` (one task per block) with each block's private dependencies run inside its task
    (see the module docstring); ``array`` itself where nothing can be fused."""
    fuser = _fuser()
    graph = array.__dask_graph__()
    layers = getattr(graph, "layers", {})
    if fuser is None or any(getattr(layer, "annotations", None) for layer in layers.values()):
        return array
    task_type, node_type, convert = fuser
    tasks = convert(dict(graph))
    if not all(isinstance(node, node_type) for node in tasks.values()):
        return array
    dependents: dict = {key: 0 for key in tasks}
    for node in tasks.values():
        for dep in node.dependencies:
            if dep in dependents:
                dependents[dep] += 1
    outputs = leaves(array.__dask_keys__(), list)  # the keys (tuples) in nested lists
    kept = set(outputs)
    fused = dict(tasks)
    for out in outputs:
        group, waiting = [out], [out]
        left: dict = {}  # the tasks not yet in the group that need a dependency
        while waiting:  # a dependency joins when every task that needs it has joined
            for dep in tasks[waiting.pop()].dependencies:
                if dep not in tasks or dep in kept:
                    continue
                left[dep] = left.get(dep, dependents[dep]) - 1
                if left[dep] == 0 and isinstance(tasks[dep], task_type):
                    group.append(dep)
                    waiting.append(dep)
        if len(group) > 1:
            for key in group[1:]:
                del fused[key]
            fused[out] = task_type.fuse(*(tasks[key] for key in group), key=out)
    if len(fused) == len(tasks):
        return array
    return da.Array(fused, array.name, array.chunks, meta=array._meta)


def _add(*totals):
    """The sum of ``totals`` in order, in a new array."""
    total = np.array(totals[0], dtype=float)
    for part in totals[1:]:
        total += part
    return total


def _first_rows(*results):
    """The sum, in order, of the flat partial sums (a ``(1, width)`` row) that start each
    chunk's result."""
    return _add(*(result[0][0] for result in results))


def tree_sum(chunks, width: int, da, token: str):
    """The ``(width,)`` sum of every chunk's partial sums (the first entry of each block's
    result), added in chunk order ``SPLIT`` at a time."""
    from dask.highlevelgraph import HighLevelGraph

    name = f"graphc-tree-{token}"
    level = [(chunks.name, k) for k in range(chunks.numblocks[0])]
    layer: dict = {}
    depth, add = 0, _first_rows
    while len(level) > 1 or depth == 0:
        nxt = []
        for start in range(0, len(level), SPLIT):
            key = (f"{name}-{depth}", start // SPLIT)
            layer[key] = (add, *level[start:start + SPLIT])
            nxt.append(key)
        level, depth, add = nxt, depth + 1, _add
    layer[(name, 0)] = layer.pop(level[0])
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[chunks])
    return da.Array(graph, name, ((width,),), meta=np.empty((0,)))
