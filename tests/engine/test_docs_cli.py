"""Rule docs (ruff-style sections, generated docs/rules.md kept fresh) and `netsnap rules list|explain|docs`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsnap.cli.app import app
from netsnap.engine.discovery import all_rules
from netsnap.engine.docs import SECTIONS, explain, rules_markdown

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_docs_rules_md_is_fresh() -> None:
    current = (REPO / "docs" / "rules.md").read_text()
    assert current == rules_markdown(all_rules()), "docs/rules.md is stale: run `make docs`"


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.meta.id)
def test_every_rule_documents_every_section(rule: object) -> None:
    from netsnap.engine.rule import Rule

    assert isinstance(rule, Rule)
    text = explain(rule.meta)
    for section in SECTIONS:
        assert f"## {section}\n\n" in text
    assert rule.meta.references, f"{rule.meta.id} has no references"
    expected = f"netsnap.builtin_rules.{rule.meta.id.lower()}_{rule.meta.name.replace('-', '_')}"
    assert rule.__class__.__module__ == expected


def test_rules_list_shows_every_rule() -> None:
    res = runner.invoke(app, ["rules", "list"])
    assert res.exit_code == 0
    ids = [line.split()[0] for line in res.stdout.splitlines() if line.strip()]
    assert ids == sorted(r.meta.id for r in all_rules())


def test_rules_explain_by_id_and_name() -> None:
    res = runner.invoke(app, ["rules", "explain", "NS201"])
    assert res.exit_code == 0 and res.stdout.startswith("# NS201 iptables-reject")
    assert "## Why is this bad?" in res.stdout
    by_name = runner.invoke(app, ["rules", "explain", "iptables-reject"])
    assert by_name.stdout == res.stdout


def test_rules_explain_unknown_is_usage_error() -> None:
    res = runner.invoke(app, ["rules", "explain", "NS999"])
    assert res.exit_code == 2 and "no rule 'NS999'" in res.stderr


def test_rules_docs_prints_the_file() -> None:
    res = runner.invoke(app, ["rules", "docs"])
    assert res.exit_code == 0 and res.stdout == (REPO / "docs" / "rules.md").read_text()


def test_rules_dir_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def (:\n")
    res = runner.invoke(app, ["rules", "list", "--rules-dir", str(tmp_path)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "bad.py: SyntaxError" in res.stderr
