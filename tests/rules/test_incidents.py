"""The two seed incidents and the healthy cluster, end to end: fixtures -> netsnap.load -> run_rules."""

from __future__ import annotations

import pytest

from netsnap.engine.findings import AnalysisResult, Severity
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from netsnap.secgroups.attach import attach
from tests.rules.bundles import FIXTURES

INCIDENT_A = [str(FIXTURES / "incident-a" / h) for h in ("master", "node1")]
SG_MASTER = f"master={FIXTURES / 'incident-a' / 'sg-master.json'}"


@pytest.fixture(scope="module")
def incident_a() -> AnalysisResult:
    snapshot = load_snapshot(INCIDENT_A)
    return run_rules(snapshot, security_groups=attach(snapshot, SG_MASTER))


def serious(result: AnalysisResult) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (f.rule, f.cause, tuple(f.hosts))
        for f in result.findings
        if f.severity in (Severity.ERROR, Severity.WARNING)
    ]


def test_incident_a_three_causes_on_one_path_ordered_by_impact(incident_a: AnalysisResult) -> None:
    causes = [c for _, c, _ in serious(incident_a)]
    assert list(dict.fromkeys(causes)) == ["flannel-wrong-iface", "vxlan-port-blocked", "iptables-reject"]
    paths = {f.path for f in incident_a.findings if f.severity == Severity.ERROR}
    # FORWARD's REJECT stops new traffic *into* master's pods: the other direction of the same host pair
    assert paths == {"master → node1 pods (172.18.5.0/24)", "node1 → master pods (172.18.100.0/24)"}
    assert "3 causes on master → node1 pods (172.18.5.0/24)" in incident_a.verdict
    impacts = [f.impact for f in incident_a.findings]
    assert impacts == sorted(impacts, reverse=True)
    assert all("master" in f.hosts for f in incident_a.findings if f.severity == Severity.ERROR)


def test_incident_a_wrong_iface_quotes_journal_and_fix(incident_a: AnalysisResult) -> None:
    f = next(f for f in incident_a.findings if f.rule == "NS301")
    journal = [e for e in f.evidence if e.file == "flannel/journal"]
    assert journal and "Using 172.16.0.4 as external interface" in journal[0].text and journal[0].line == 4
    assert "192.168.0.0/24" in f.explanation and "eth1" in f.explanation
    fix = "\n".join(f.remediation)
    assert "-iface=eth1" in fix and "-public-ip=192.168.0.15" in fix and "systemctl restart flanneld" in fix
    assert "-etcd-keyfile=/var/paas/srv/kubernetes/kubecfg.key" in fix  # the existing options are kept


def test_incident_a_rejects_found_in_order_not_grepped(incident_a: AnalysisResult) -> None:
    rejects = [f for f in incident_a.findings if f.rule == "NS201"]
    chains = sorted(f.key.split("-")[1] for f in rejects)
    assert chains == ["forward", "input"]
    for f in rejects:
        deciding = [e for e in f.evidence if "REJECT" in e.text]
        assert deciding and deciding[0].file == "firewall/iptables-save" and deciding[0].line > 0
        assert any(cmd.startswith("iptables -I ") for cmd in f.remediation)
    inp = next(f for f in rejects if "-input-" in f.key)
    assert "iptables -I INPUT 7 -p udp -s 192.168.0.16 --dport 8472 -j ACCEPT" in inp.remediation


def test_incident_a_security_group_and_counters(incident_a: AnalysisResult) -> None:
    f = next(f for f in incident_a.findings if f.rule == "NS203" and f.severity == Severity.ERROR)
    texts = [e.text for e in f.evidence]
    assert any("ingress udp 8472 from 192.168.0.16" in t for t in texts)
    assert any("RX packets 0, TX packets 1873" in t for t in texts)
    assert "UDP 53, not 8472" in f.explanation
    # node1 has no export: unverified, a note with the exact rule to check, never an error
    note = next(f for f in incident_a.findings if f.rule == "NS203" and f.hosts == ["node1"])
    assert note.severity == Severity.INFO and "unverified" in note.title.lower()
    assert "# must exist: ingress udp 8472 from 172.16.0.4" in note.remediation


def test_incident_a_without_security_group_says_unverified() -> None:
    result = run_rules(load_snapshot(INCIDENT_A))
    f = next(f for f in result.findings if f.rule == "NS203" and f.hosts == ["master"])
    # the master's VXLAN device sends and never receives: a warning, with the rule to check
    assert f.severity == Severity.WARNING and "Unverified" in f.title
    assert "# must exist: ingress udp 8472 from 192.168.0.16" in f.remediation


def test_incident_b_two_defaults_and_duplicate_subnet() -> None:
    result = run_rules(load_snapshot([str(FIXTURES / "incident-b" / "host")]))
    errors = {(f.rule, f.cause) for f in result.findings if f.severity == Severity.ERROR}
    assert errors == {("NS101", "duplicate-default-route"), ("NS102", "duplicate-subnet-route")}
    dup = next(f for f in result.findings if f.rule == "NS102")
    assert "9.91.0.0/16" in dup.explanation and {e.line for e in dup.evidence} == {3, 4}
    assert "ip route del 9.91.0.0/16 dev eth1" in dup.remediation
    # no flannel or VXLAN device, no flannel file or log: the overlay rules do not apply (never "passed")
    runs = {r.rule: r.status for r in result.rule_runs}
    assert runs["NS306"] == runs["NS307"] == "not-applicable"
    assert not {"NS306", "NS307"} & {n.rule for n in result.not_evaluated}


def test_healthy_cluster_has_no_error_or_warning() -> None:
    result = run_rules(load_snapshot([str(FIXTURES / "healthy" / h) for h in ("master", "node1")]))
    assert serious(result) == []
    assert not result.not_evaluated
    assert result.verdict.startswith("No errors or warnings")
