"""The diff as one self-contained HTML file (autoescaped; nothing loaded from outside)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from netsnap.diff.model import DiffResult

_ENV = Environment(
    loader=PackageLoader("netsnap.diff", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_diff_section(result: DiffResult) -> Markup:
    """The "compared with" section, for embedding in the analyze report (already escaped HTML)."""
    return Markup(_ENV.get_template("diff_section.html.j2").render(result=result))  # noqa: S704 - autoescaped


def render_diff_html(result: DiffResult) -> str:
    return _ENV.get_template("diff_page.html.j2").render(result=result, section=render_diff_section(result))
