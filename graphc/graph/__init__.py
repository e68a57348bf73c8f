"""The graph: the interned DAG of ops (:mod:`~graphc.graph.graph`), the simplifications applied
as it is built (:mod:`~graphc.graph.simplify`), and pausing the garbage collector while large
graphs are built (:mod:`~graphc.graph.gcpause`)."""

from graphc.graph.graph import Graph, Node

__all__ = ["Graph", "Node"]
