"""NS201 on firewalld hosts: fixtures/rules/NS201/{fire,pass}-firewalld overlay the healthy node1 with what
real firewalld 1.3.3 generated (tests/nft/capture_fixtures.py): the default public zone on eth0/eth1
rejects the overlay on input and forward; with 8472/udp open and the pod network trusted nothing fires.
(The generic rule-case test only runs the `fire`/`pass` cases; these are run here.)"""

from __future__ import annotations

from pathlib import Path

from netsnap.engine.findings import Severity
from tests.rules.test_rule_cases import run_case


def test_firewalld_zone_rejecting_the_overlay_fires(tmp_path: Path) -> None:
    result = run_case("NS201", "fire-firewalld", tmp_path)
    found = {f.key: f for f in result.findings if f.rule == "NS201" and f.severity is Severity.ERROR}
    assert set(found) == {"node1-filter_in_public-72", "node1-filter_fwd_public-101"}
    inp, fwd = found["node1-filter_in_public-72"], found["node1-filter_fwd_public-101"]
    assert "udp 8472" in inp.explanation and inp.remediation[0] == (
        "firewall-cmd --permanent --zone=public --add-port=8472/udp")
    assert fwd.remediation[0] == "firewall-cmd --permanent --zone=trusted --add-source=10.244.0.0/16"
    assert [(e.file, e.text) for e in inp.evidence] == [
        ("firewall/nft-list-ruleset", 'iifname "eth1" goto filter_IN_public # handle 181'),
        ("firewall/nft-list-ruleset", "reject with icmpx admin-prohibited # handle 72")]
    assert all(e.line > 0 for f in found.values() for e in f.evidence)


def test_healthy_firewalld_host_raises_nothing(tmp_path: Path) -> None:
    result = run_case("NS201", "pass-firewalld", tmp_path)
    assert [f.explanation for f in result.findings if f.severity in (Severity.ERROR, Severity.WARNING)] == []
    run = next(r for r in result.rule_runs if r.rule == "NS201")
    assert run.status == "passed", run
