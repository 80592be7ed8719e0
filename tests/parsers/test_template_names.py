"""TTP silently misbehaves when a template variable is named like one of its own functions
(`chain`, `set`, `re`, `contains`...). Reject every such name in our templates."""

from __future__ import annotations

import re
from pathlib import Path

from ttp.ttp import lazy_import_functions

TEMPLATES = Path(__file__).parents[2] / "netsnap" / "parsers" / "templates"
VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)")


def _reserved() -> set[str]:
    names: set[str] = {"chain", "set", "re", "contains", "exclude", "equal", "sformat", "ignore", "_line_",
                       "_start_", "_end_", "_headers_", "_exact_", "_exact_space_"}
    funcs = lazy_import_functions()
    for group in ("match", "variable"):
        names.update(funcs[group])
    return names


def test_no_reserved_variable_names() -> None:
    reserved = _reserved()
    bad = []
    for tpl in sorted(TEMPLATES.glob("*.ttp")):
        for name in VAR.findall(tpl.read_text()):
            if name in reserved:
                bad.append(f"{tpl.name}: {name}")
    assert bad == []


def test_reserved_list_is_populated() -> None:
    # guards against the check silently passing because TTP's table could not be read
    assert {"chain", "set", "re", "contains"} <= _reserved()
