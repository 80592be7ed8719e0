"""Ordering, counts, verdict, filters, exit codes and empty states shared by all renderers."""

from __future__ import annotations

import pytest

from netsnap.engine.findings import AnalysisResult, RuleRun, Severity
from netsnap.report.view import (
    category_states,
    exit_code,
    filter_result,
    severity_counts,
    split_tokens,
    verdict,
)
from tests.report import builders


def test_findings_sorted_by_severity_then_impact() -> None:
    from netsnap.engine.run import sort_findings

    res = builders.result()
    shuffled = list(reversed(res.findings))
    assert [f.rule for f in sort_findings(shuffled)] == ["NS301", "NS201", "NS302", "NS101"]


def test_severity_counts_in_fixed_order() -> None:
    counts = severity_counts(builders.result())
    assert list(counts) == ["error", "warning", "info", "not evaluated"]
    assert counts == {"error": 3, "warning": 0, "info": 1, "not evaluated": 1}


def test_verdict_uses_engine_sentence_when_given() -> None:
    res = builders.result().model_copy(update={"verdict": "engine says so"})
    assert verdict(res) == "engine says so"


def test_verdict_built_from_error_causes_and_shared_path() -> None:
    assert verdict(builders.result()) == "3 causes block master → node1 pods (172.18.36.0/24) traffic"


def test_verdict_when_nothing_found_counts_checks() -> None:
    res = AnalysisResult(netsnap_version="0", rules_version="0", rule_runs=[
        RuleRun(rule="NS1", title="t", cause="c", category="routing", status="passed")])
    assert verdict(res) == "No problem found (1 checks ran)"


@pytest.mark.parametrize(
    ("only", "skip", "expected"),
    [
        (["NS201"], [], ["NS201"]),
        (["flannel-wrong-iface", "ns302"], [], ["NS301", "NS302"]),
        ([], ["iptables-reject", "NS101"], ["NS301", "NS302"]),
        (["NS201", "NS301"], ["NS301"], ["NS201"]),
    ],
)
def test_only_and_skip_match_rule_id_or_cause(only: list[str], skip: list[str], expected: list[str]) -> None:
    res = filter_result(builders.result(), only=only, skip=skip)
    assert sorted(f.rule for f in res.findings) == sorted(expected)
    assert {r.rule for r in res.rule_runs if r.status == "fired"} == set(expected)


def test_min_severity_hides_lower_findings() -> None:
    res = filter_result(builders.result(), min_severity=Severity.WARNING)
    assert {f.severity for f in res.findings} == {Severity.ERROR}
    assert len(res.findings) == 3


def test_split_tokens_accepts_commas_and_repeats() -> None:
    assert split_tokens(["NS201, iptables-reject", "NS301", " "]) == ["NS201", "iptables-reject", "NS301"]


@pytest.mark.parametrize(
    ("fail_on", "keep", "code"),
    [
        ("warning", None, 1),
        ("error", None, 1),
        ("none", None, 0),
        ("warning", ["NS101"], 0),
        ("info", ["NS101"], 1),
        ("error", ["NS101"], 0),
    ],
)
def test_exit_code_threshold(fail_on: str, keep: list[str] | None, code: int) -> None:
    res = builders.result()
    if keep:
        res = filter_result(res, only=keep)
    assert exit_code(res, fail_on) == code


def test_category_empty_states() -> None:
    states = {s.category: s.sentence for s in category_states(builders.result().rule_runs)}
    assert states["routing"] == "routing: 2 checks ran, 1 fired"
    assert states["kernel"] == "kernel: 1 check ran, nothing found; 1 not evaluated"
    runs = [RuleRun(rule=f"NS1{i:02}", title="t", cause="c", category="routing", status="passed") for i in range(9)]
    assert category_states(runs)[0].sentence == "routing: 9 checks ran, nothing found"


def test_filtering_out_findings_drops_the_engine_verdict() -> None:
    res = builders.result().model_copy(update={"verdict": "engine: 3 errors, 1 note"})
    assert filter_result(res).verdict == "engine: 3 errors, 1 note"
    kept = filter_result(res, only=["NS101"])
    assert kept.verdict == ""
    assert verdict(kept) == "No problem found (1 checks ran, 1 note(s))"
