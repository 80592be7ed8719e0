"""The one rule selector: ID, name, cause or category; unknown tokens are refused with the choices."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from netsnap.cli.app import app
from netsnap.engine.discovery import all_rules
from netsnap.engine.select import SelectorError, select_rules, tokens
from tests.rules.test_incidents import INCIDENT_A

RULES = all_rules()


@pytest.mark.parametrize(("only", "ids"), [
    (["NS201"], {"NS201"}),
    (["ns201"], {"NS201"}),
    (["iptables-reject"], {"NS201"}),  # name and cause
    (["flannel-not-running"], {"NS309"}),  # a rule's name that is not its cause
    (["routing"], {"NS101", "NS102"}),  # a category
    (["NS101,NS102"], {"NS101", "NS102"}),
])
def test_only_selects_by_any_key(only: list[str], ids: set[str]) -> None:
    assert {r.meta.id for r in select_rules(RULES, only)} == ids


def test_skip_by_category() -> None:
    kept = {r.meta.id for r in select_rules(RULES, skip=["routing", "NS403"])}
    assert "NS101" not in kept and "NS102" not in kept and "NS403" not in kept and "NS201" in kept


def test_unknown_tokens_are_refused_with_the_choices() -> None:
    with pytest.raises(SelectorError) as exc:
        select_rules(RULES, ["NS999"])
    text = str(exc.value)
    assert text.startswith("--only NS999: no such rule; use a rule ID (NS101, NS102, NS201")
    assert "a category (firewall, flannel, kernel, overlay, routing, security-group)" in text
    with pytest.raises(SelectorError, match="--skip nope"):
        select_rules(RULES, skip=["nope"])


def test_tokens_split_commas_and_repeats() -> None:
    assert tokens(["NS201, iptables-reject", "NS301", " "]) == ["NS201", "iptables-reject", "NS301"]


def test_cli_refuses_a_typo_with_exit_2_and_selects_by_name() -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["analyze", *INCIDENT_A, "--only", "NS999"])
    assert bad.exit_code == 2 and "--only NS999: no such rule" in bad.stderr
    by_name = runner.invoke(app, ["analyze", *INCIDENT_A, "--only", "flannel-wrong-iface", "--format", "json"])
    assert by_name.exit_code == 1 and '"rule": "NS301"' in by_name.stdout
