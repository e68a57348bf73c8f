"""The documentation site: Sphinx reads the guide pages of this folder as Markdown (MyST) and
builds the API reference from graphc's docstrings (autodoc). Built by .ci/run.d/docs.sh:
``sphinx-build -W --keep-going -b html docs <folder>``.

Sphinx with MyST rather than MkDocs: the docstrings are written in reStructuredText roles
(``:mod:``, ``:class:``, double backticks), which autodoc reads as they are, and the guide
pages stay plain Markdown that GitHub shows too."""

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # graphc from this checkout, installed or not

project = "graphc"
author = "graphc contributors"
copyright = "graphc contributors"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
# The interactive pages are finished HTML: never parsed, copied as they are (see copy_pages).
exclude_patterns = ["_build", "pages"]
myst_heading_anchors = 4  # the pages link to sections as guide.md#reading-the-generated-code
html_theme = "alabaster"
html_title = "graphc"

# The optional extras' packages are never imported by the build: the API reference describes
# graphc's code, not theirs, and the site builds where none of them is installed.
autodoc_mock_imports = ["llvmlite", "numba", "jax", "jaxlib", "dask", "distributed", "matplotlib",
                        "scipy"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"


def copy_pages(app, exception):
    """Put docs/pages/*.html beside the built site under pages/, byte for byte."""
    if exception is None and app.builder.format == "html":
        shutil.copytree(HERE / "pages", Path(app.outdir) / "pages", dirs_exist_ok=True)


def link_pages(app, doctree):
    """Point the guide's links to pages/NAME.html at the copies under pages/. Run before
    Sphinx collects downloads, so that MyST's download links to them (into a hashed folder
    under _downloads/) become plain links and the pages are not copied twice."""
    from docutils import nodes
    from sphinx import addnodes

    depth = app.env.docname.count("/")
    for link in list(doctree.findall(addnodes.download_reference)):
        target = link["reftarget"]
        if target.startswith("pages/") and target.endswith(".html"):
            link.replace_self(nodes.reference("", "", *link.children, refuri="../" * depth + target))


def setup(app):
    app.connect("doctree-read", link_pages, priority=400)
    app.connect("build-finished", copy_pages)
