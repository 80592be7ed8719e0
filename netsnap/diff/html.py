"""The diff as one self-contained HTML file, or as the "compared with" section of the analyze report
(autoescaped; nothing loaded from outside; every link points into the same page).

Differences that touch a blocked flow come first; those with no effect on reachability follow, collapsed
and counted apart. `labels` names each side's host and bundle; the stand-alone page lists the failing
side's findings so that "explains NS201-..." links have their target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from netsnap.diff.model import DiffResult
from netsnap.engine.findings import Finding

_ENV = Environment(
    loader=PackageLoader("netsnap.diff", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_diff_section(result: DiffResult, labels: Mapping[str, str] | None = None, top: int | None = None) -> Markup:
    """The "compared with" section, for embedding in the analyze report (already escaped HTML)."""
    shown = result.differences[:top] if top is not None else result.differences
    return Markup(_ENV.get_template("diff_section.html.j2").render(  # noqa: S704 - autoescaped
        result=result, labels=dict(labels or {}), effect=[d for d in shown if d.effect],
        no_effect=[d for d in shown if not d.effect], hidden=len(result.differences) - len(shown)))


def render_diff_html(result: DiffResult, *, labels: Mapping[str, str] | None = None,
                     findings: Sequence[Finding] = (), top: int | None = None) -> str:
    """The stand-alone diff page; `findings` are the failing side's (the targets of the "explains" links)."""
    wanted = {a for d in result.differences for a in d.explains}
    return _ENV.get_template("diff_page.html.j2").render(
        result=result, section=render_diff_section(result, labels, top),
        findings=[f for f in findings if f.anchor in wanted])
