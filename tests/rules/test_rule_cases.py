"""Every rule has a firing and a non-firing case (fixtures/rules/<ID>/{fire,pass}), overlaid on the healthy
fixture and run through the real loader and engine. Each case's `expected.json` holds the rule's exact
status and (key, severity) set, checkov-style: not just "it fired"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsnap.engine.discovery import all_rules
from netsnap.engine.findings import AnalysisResult, Severity
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from netsnap.secgroups.attach import attach
from netsnap.secgroups.model import SecurityGroups
from tests.rules.bundles import RULE_CASES, build_case, cases

SERIOUS = (Severity.ERROR, Severity.WARNING)


def run_case(rule_id: str, case: str, tmp_path: Path) -> AnalysisResult:
    bundles, specs = build_case(rule_id, case, tmp_path)
    snapshot = load_snapshot(bundles)
    groups: SecurityGroups | None = None
    for spec in specs:
        groups = attach(snapshot, spec, groups)
    return run_rules(snapshot, security_groups=groups, only=[rule_id])


def _skip_if_parser_missing(result: AnalysisResult, rule_id: str) -> None:
    missing = [n for n in result.not_evaluated if n.rule == rule_id and "no parser" in n.reason]
    if missing:
        pytest.skip(f"{rule_id}: {missing[0].reason} (parser not written yet)")


def test_every_rule_has_both_cases() -> None:
    ids = {r.meta.id for r in all_rules()}
    have = {(rid, case) for rid, case in cases()}
    lacking = sorted(f"{rid}/{case}" for rid in ids for case in ("fire", "pass") if (rid, case) not in have)
    assert not lacking, f"rules without a fixture case: {lacking}"
    unknown = sorted(p.name for p in RULE_CASES.iterdir() if p.is_dir() and p.name not in ids)
    assert not unknown, f"fixture cases for unknown rules: {unknown}"


@pytest.mark.parametrize(("rule_id", "case"), cases())
def test_rule_case(rule_id: str, case: str, tmp_path: Path) -> None:
    result = run_case(rule_id, case, tmp_path)
    _skip_if_parser_missing(result, rule_id)
    failed = [n.reason for n in result.not_evaluated if n.rule == rule_id and n.reason.startswith("rule failed")]
    assert not failed, failed
    mine = [f for f in result.findings if f.rule == rule_id]
    expected = json.loads((RULE_CASES / rule_id / case / "expected.json").read_text())
    assert sorted([f.key, f.severity.value] for f in mine) == expected["findings"]
    assert [r.status for r in result.rule_runs if r.rule == rule_id] == [expected["status"]]
    serious = [f for f in mine if f.severity in SERIOUS]
    if case == "fire":
        assert serious, f"{rule_id} did not fire; not evaluated: {[n.reason for n in result.not_evaluated]}"
        for f in serious:
            assert f.evidence and all(e.file and e.host for e in f.evidence)
            assert any(e.line > 0 for e in f.evidence), f"{rule_id}: no evidence line numbers"
            assert f.remediation and f.explanation and f.key
    else:
        assert not serious, [f.explanation for f in serious]
        run = next(r for r in result.rule_runs if r.rule == rule_id)
        assert run.status in ("passed", "fired"), run
