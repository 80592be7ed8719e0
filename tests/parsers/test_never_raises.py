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

    # break the template run everywhere a parser module may reach it (ip_link_stats goes through ip_addr)
    for name in sorted(set(PARSER_MODULES.values())):
        other = importlib.import_module(f"netsnap.parsers.{name}")
        for attr in ("run_template", "read_assignments"):
            if hasattr(other, attr):
                monkeypatch.setattr(other, attr, boom)
    if module == "net_conf":
        monkeypatch.setattr(mod.json, "loads", boom)
    result = mod.parse(TEXT, "some/file")
    # the iptables parsers still return the (empty) ruleset, so the host shows iptables as parsed-but-empty
    assert all(getattr(item, "tables", None) == {} for item in result.items)
    assert [u.text for u in result.unparsed] == ["first line", "second line"]
