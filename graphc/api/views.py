"""What a compiled function shows of itself: the names its code gives the graph's nodes, the
forward and backward tables, pictures of the graph, the interactive page, and its display in
notebooks. The tools that make them are imported when first used (nothing in the core imports
:mod:`graphc.tools` at module level).

A class using :class:`Views` provides ``_graph``, ``output``, ``formula``, ``variables``,
``tensor``, ``_names``, ``_program(kind)`` and ``source(kind)``, as
:class:`~graphc.api.function.Function` does.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

from graphc.backends import printing
from graphc.graph.graph import Node

if TYPE_CHECKING:
    from graphc.backends.naming import Names
    from graphc.backends.scheduling import Program
    from graphc.graph.graph import Graph


class Views:
    """Tables, pictures, the page and notebook display of a compiled function."""

    # What the class using it provides (declared for the type checker).
    _graph: Graph
    _names: Names
    output: Node
    formula: str
    variables: tuple[str, ...]
    tensor: bool
    _program: Callable[[str], Program]
    source: Callable[..., str]

    def code_names(self, kind: str = "value_and_grad") -> dict[Node, str]:
        """The name each graph node has in the generated ``kind`` code."""
        names: dict[Node, str] = {}
        printing.emit(self._graph, self._program(kind), self._names, "numpy" if self.tensor else "math",
                     names_out=names)
        return names

    def table(self, /, *args: Any, **kwargs: Any) -> Any:
        """The forward and backward tables at a point: ``print(f.table(2, 3))``, ``.to_dict()``."""
        from graphc.tools import tables

        return tables.build(self, tables.point_of(self, args, kwargs))

    def draw(self, path: str | os.PathLike | None = None, /, *args: Any, **kwargs: Any) -> Any:
        """A picture of the graph, labelled with values and adjoints at a point if one is given.

        ``f.draw("graph.png", 2, 3)`` writes it (``.dot`` needs nothing; ``.png`` and ``.svg``
        need matplotlib, ``pip install graphc[plot]``) and returns the
        :class:`~graphc.tools.drawing.Picture`; ``f.draw()`` only returns it.
        """
        from graphc.tools import drawing

        picture = drawing.picture(self, *args, **kwargs)
        if path is not None:
            picture.save(path)
        return picture

    def html(self, /, *args: Any, path: str | os.PathLike | None = None, practice: bool = False,
             **kwargs: Any) -> str:
        """The interactive page of both passes at a point (:mod:`graphc.tools.page`) as HTML
        text; ``f.html(2, 3, path="quiz.html")`` writes it and returns the path (Jupyter shows
        the page). ``practice=True``: the tables start empty for a student to fill in."""
        from graphc.tools import page

        if path:
            return page.write(self, path, args, kwargs, practice)
        return page.render(self, args, kwargs, practice)

    def show(self, /, *args: Any, **kwargs: Any) -> Any:
        """The same page inline in Jupyter: ``f.show(2, 3)`` (nothing is fetched)."""
        from graphc.tools import page

        return page.Shown(page.render(self, args, kwargs))

    @property
    def _shown_kind(self) -> str:
        """What notebooks show: value and gradient, or the value alone if it is not a scalar."""
        return "value" if self._graph.shape(self.output) else "value_and_grad"

    _SVG_NODE_LIMIT = 150  # larger graphs are not drawn inline: the picture would be unreadable

    def _repr_markdown_(self) -> str:
        formula = self.formula if len(self.formula) <= 200 else self.formula[:197] + "..."
        return (f"**graphc.Function** of ({', '.join(self.variables)}): `{formula}`\n\n"
                f"```python\n{self.source(self._shown_kind)}```\n")

    def _repr_html_(self) -> str | None:
        """Code and an SVG of the graph when matplotlib is present; else Jupyter uses markdown."""
        from graphc.tools import drawing

        if not drawing.have_matplotlib():
            return None
        import html

        formula = self.formula if len(self.formula) <= 200 else self.formula[:197] + "..."
        parts = [f"<p><b>graphc.Function</b> of ({html.escape(', '.join(self.variables))}): "
                 f"<code>{html.escape(formula)}</code></p>",
                 f"<pre>{html.escape(self.source(self._shown_kind))}</pre>"]
        picture = drawing.picture(self)
        if len(picture.nodes) <= self._SVG_NODE_LIMIT:
            parts.append(picture.svg())
        return "\n".join(parts)
