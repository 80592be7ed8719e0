"""Every parser answers any input with a result, even when its own code fails: the failure becomes
unparsed lines (the loader would otherwise mark the whole source unreadable)."""

from __future__ import annotations

import importlib

import pytest

from netsnap.parsers.registry import PARSER_MODULES

MODULES = sorted(set(PARSER_MODULES.values()))
TEXT = "first line\nsecond line\n"


@pytest.mark.parametrize("module", MODULES)
def test_a_failing_template_run_leaves_every_line_unparsed(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    mod = importlib.import_module(f"netsnap.parsers.{module}")

    def boom(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("template exploded")

    patched = False
    for name in ("run_template", "read_assignments", "json"):
        if hasattr(mod, name) and name != "json":
            monkeypatch.setattr(mod, name, boom)
            patched = True
    if module == "net_conf":
        monkeypatch.setattr(mod.json, "loads", boom)
        patched = True
    if not patched:
        pytest.skip(f"{module} has no template entry point to break")
    result = mod.parse(TEXT, "some/file")
    # the iptables parsers still return the (empty) ruleset, so the host shows iptables as parsed-but-empty
    assert all(getattr(item, "tables", None) == {} for item in result.items)
    assert [u.text for u in result.unparsed] == ["first line", "second line"]
