"""Ordering, counts, verdict, filters, exit codes and empty states shared by all renderers."""

from __future__ import annotations

import pytest

from netsnap.engine.findings import AnalysisResult, RuleRun, Severity
from netsnap.report.view import (
    category_states,
    exit_code,
    filter_result,
    severity_counts,
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


def test_min_severity_hides_lower_findings() -> None:
    res = filter_result(builders.result(), min_severity=Severity.WARNING)
    assert {f.severity for f in res.findings} == {Severity.ERROR}
    assert len(res.findings) == 3


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
        res = res.model_copy(update={"findings": [f for f in res.findings if f.rule in keep]})
    assert exit_code(res, fail_on) == code


def test_not_cleared_when_a_main_check_could_not_run_or_a_blocked_path_is_unexplained() -> None:
    from netsnap.engine.findings import FlowVerdict

    res = builders.result().model_copy(update={"findings": []})
    assert exit_code(res, "warning") == 0
    runs = [*res.rule_runs, RuleRun(rule="NS201", title="t", cause="iptables-reject", category="firewall",
                                    status="not-evaluated", main=True)]
    assert exit_code(res.model_copy(update={"rule_runs": runs}), "warning") == 1
    flow = FlowVerdict(id="pods:a->b", kind="pods", label="a pods → b pods", src_host="a", dst_host="b",
                       dst_ip="10.244.1.2", proto="icmp", verdict="unreachable", disposition="no-route", reason="r",
                       unexplained=["a|no-route|10.244.1.2"])
    blocked = res.model_copy(update={"flows": [flow]})
    assert exit_code(blocked, "warning") == 1
    assert exit_code(blocked, "none") == 0


def test_not_cleared_when_a_main_check_passed_on_some_hosts_and_could_not_run_on_others() -> None:
    from netsnap.engine.findings import NotEvaluated
    from netsnap.report.view import not_cleared

    res = builders.result().model_copy(update={"findings": []})
    runs = [*res.rule_runs, RuleRun(rule="NS201", title="t", cause="iptables-reject", category="firewall",
                                    status="passed", hosts=["master"], main=True)]
    gap = NotEvaluated(rule="NS201", title="t", hosts=["node1"], missing=["filter_rules"], reason="r")
    partial = res.model_copy(update={"rule_runs": runs, "not_evaluated": [*res.not_evaluated, gap]})
    assert not_cleared(partial) == ["NS201 could not run on node1"]
    assert exit_code(partial, "warning") == 1


def test_category_empty_states() -> None:
    states = {s.category: s.sentence for s in category_states(builders.result().rule_runs)}
    assert states["routing"] == "routing: 2 checks ran, 1 fired"
    assert states["kernel"] == "kernel: 1 check ran, nothing found; 1 not evaluated"
    runs = [RuleRun(rule=f"NS1{i:02}", title="t", cause="c", category="routing", status="passed") for i in range(9)]
    assert category_states(runs)[0].sentence == "routing: 9 checks ran, nothing found"


def test_filtering_out_findings_drops_the_engine_verdict() -> None:
    res = builders.result().model_copy(update={"verdict": "engine: 3 errors, 1 note"})
    assert filter_result(res).verdict == "engine: 3 errors, 1 note"
    kept = filter_result(res, min_severity=Severity.ERROR)
    assert kept.verdict == ""
    assert verdict(kept) != "engine: 3 errors, 1 note" and len(kept.findings) == 3


def test_headline_speaks_plainly() -> None:
    from netsnap.report.view import headline

    assert headline(builders.result()) == "3 problems break master → node1 pods (172.18.36.0/24)."
    none = AnalysisResult(netsnap_version="0", rules_version="0", rule_runs=[
        RuleRun(rule="NS1", title="t", cause="c", category="routing", status="passed")])
    assert headline(none) == "No problem found: 1 check passed."
    main = none.model_copy(update={"rule_runs": [RuleRun(rule="NS301", title="t", cause="c", category="flannel",
                                                         status="not-evaluated", main=True)]})
    assert headline(main) == "NOT an all-clear: no problem found, but NS301 could not run."


def test_summary_items_one_per_cause_in_finding_order_with_the_commands() -> None:
    from netsnap.engine.findings import Finding
    from netsnap.report.view import summary_items

    res = builders.result()
    extra = res.findings[1].model_copy(update={"key": "master-FORWARD", "remediation": [
        "# in /etc/sysconfig/iptables:", "iptables -I FORWARD 1 -j ACCEPT"]})
    findings: list[Finding] = [*res.findings[:2], extra, *res.findings[2:]]
    items = summary_items(findings)
    assert [i.cause for i in items] == ["flannel-wrong-iface", "iptables-reject", "vxlan-port-blocked"]
    assert items[1].anchors == ["NS201-master-INPUT", "NS201-master-FORWARD"]
    assert items[1].fix == ["iptables -I INPUT -p udp --dport 8472 -s 192.168.0.0/24 -j ACCEPT",
                            "iptables -I FORWARD 1 -j ACCEPT"]
    assert items[0].sentence == "Flannel uses an interface the peers cannot reach (on master)"
    assert items[0].breaks == ["master → node1 pods (172.18.36.0/24)"]
    assert all(i.cause != "duplicate-default-route" for i in items)  # notes are not in the summary


def test_not_applicable_is_counted_apart_from_not_evaluated() -> None:
    from netsnap.report.view import not_applicable, state_counts

    runs = [RuleRun(rule="NS301", title="t", cause="c", category="flannel", status="not-applicable",
                    not_applicable=["db1"]),
            RuleRun(rule="NS201", title="t", cause="c", category="firewall", status="passed")]
    res = AnalysisResult(netsnap_version="0", rules_version="0", rule_runs=runs)
    assert state_counts(res)["not applicable"] == 1 and state_counts(res)["not evaluated"] == 0
    assert not_applicable(runs) == [("NS301", "t", "db1")]
    flannel = next(s for s in category_states(runs) if s.category == "flannel")
    assert flannel.ran == 0 and flannel.sentence == ("flannel: 0 checks ran, nothing could run; 1 not applicable "
                                                     "(no overlay on the hosts)")


def test_command_line_secrets_are_redacted() -> None:
    from netsnap.report.view import redact_argv

    assert redact_argv(["analyze", "--token", "abc", "db_password=zz", "https://u:p@h/x", "--quiet"]) == [
        "analyze", "--token", "REDACTED", "db_password=REDACTED", "https://u:REDACTED@h/x", "--quiet"]
