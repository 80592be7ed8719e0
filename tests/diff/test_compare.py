"""Role-normalised comparison: what differs first, and same-role hosts compare clean."""

from __future__ import annotations

from netsnap.diff.compare import compare_hosts
from netsnap.engine.findings import Confidence, Finding, FlowVerdict, Severity
from netsnap.model.evidence import Evidence
from netsnap.trace.result import Step
from tests.diff.builders import host


def blocked_flow(step: Step) -> FlowVerdict:
    """A required flow the graph found blocked at `step`."""
    return FlowVerdict(id="host-pods:node1->master", kind="host-pods", label="node1 → master pods",
                       src_host="node1", dst_host="master", dst_ip="10.244.0.2", proto="icmp",
                       verdict="unreachable", disposition="denied-in", reason=step.detail, blockers=[step])

GOOD = host("master-ok", {"eth1": ["192.168.0.15/24"]}, [("eth1", "192.168.0.1", 100)],
            input_rules=["-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "1"})


def test_same_role_hosts_compare_clean() -> None:
    other = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
                 input_rules=["-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "1"})
    assert compare_hosts(GOOD, other) == []


def test_extra_management_network_and_default_route_come_first() -> None:
    bad = host("master", {"eth0": ["172.16.0.4/24"], "eth1": ["192.168.0.15/24"]},
               [("eth0", "172.16.0.1", 100)],
               input_rules=["-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "1"})
    step = Step(host="node1", stage="no-route", action="deny", detail="no route to 172.16.0.4",
                check="node1|no-route|172.16.0.4")
    finding = Finding(rule="NS301", cause="flannel-wrong-iface", severity=Severity.ERROR,
                      confidence=Confidence.HIGH, title="flannel uses eth0", hosts=["master"], explanation="x",
                      evidence=[Evidence(host="master", file="routes/ip-route", line=1, text="default")],
                      checks=[step.check])
    diffs = compare_hosts(GOOD, bad, bad_findings=[finding], bad_flows=[blocked_flow(step)])
    assert diffs, "the extra network must show"
    first = diffs[0]
    assert first.kind == "default-route"
    assert first.bad is not None and "dev eth0" in first.bad
    assert first.explains == ["NS301"]
    assert "explains NS301" in first.explanation
    kinds = {(d.kind, d.key) for d in diffs}
    assert ("network", "eth0 172.16.0.0/24") in kinds
    # the shared cluster network is not reported
    assert not any(d.key.startswith("eth1") for d in diffs)


def test_reject_rule_difference_is_reported_by_meaning_not_text() -> None:
    bad = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
               input_rules=["-A INPUT -j REJECT --reject-with icmp-host-prohibited",
                            "-A INPUT -s 192.168.0.0/24 -j ACCEPT"],
               sysctls={"net.ipv4.ip_forward": "1"})
    diffs = compare_hosts(GOOD, bad)
    assert len(diffs) == 1
    d = diffs[0]
    assert d.kind == "iptables-rules" and d.good is None
    assert d.bad == "-j REJECT --reject-with icmp-host-prohibited"
    assert d.evidence[0].line == 11


def test_sysctl_difference_explains_its_cause() -> None:
    bad = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
               input_rules=["-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "0"})
    sysctl_line = next(d for d in compare_hosts(GOOD, bad) if d.kind == "sysctl").evidence
    step = Step(host="master-2", stage="forward", action="deny", detail="does not forward", check="master-2|ip_forward",
                consulted=sysctl_line)
    finding = Finding(rule="NS401", cause="ip-forward-disabled", severity=Severity.ERROR,
                      confidence=Confidence.HIGH, title="forwarding off", hosts=["master-2"], explanation="x",
                      checks=[step.check])
    diffs = compare_hosts(GOOD, bad, bad_findings=[finding], bad_flows=[blocked_flow(step)])
    assert [(d.kind, d.good, d.bad, d.explains, d.effect) for d in diffs] == [
        ("sysctl", "1", "0", ["NS401"], True),
        ("finding", None, "forwarding off", [], False),  # the rule fires on the bad side only
    ]
    # without a blocked flow the graph ties it to, the same difference has no effect on reachability
    alone = compare_hosts(GOOD, bad, bad_findings=[finding])
    assert (alone[0].kind, alone[0].explains, alone[0].effect) == ("sysctl", [], False)
    assert alone[0].explanation.startswith("No effect on reachability")


def test_harmless_accept_rules_explain_no_unverified_note() -> None:
    # two healthy hosts of one role, differing only in ACCEPT rules; the only finding is an unverified
    # security-group note (a doubt, not a blocker): nothing is explained, everything has no effect
    bad = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
               input_rules=["-A INPUT -i lo -j ACCEPT", "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT",
                            "-A INPUT -s 192.168.0.0/24 -j ACCEPT"], sysctls={"net.ipv4.ip_forward": "1"})
    note = Finding(rule="NS203", cause="vxlan-port-blocked", severity=Severity.INFO, confidence=Confidence.LOW,
                   title="Unverified: security group must allow UDP 8472", hosts=["master-2"], explanation="x",
                   checks=["master-2|sg|ingress|udp|8472"])
    diffs = compare_hosts(GOOD, bad, bad_findings=[note])
    rules = [d for d in diffs if d.kind == "iptables-rules"]
    assert len(rules) == 2 and all(not d.explains and not d.effect for d in rules)


def test_pairing_by_name_and_no_reuse_of_a_good_host() -> None:
    from netsnap.diff.compare import pair_hosts

    master_good = host("master", {"eth1": ["192.168.0.15/24"]}, [("eth1", "192.168.0.1", 100)])
    master_bad = host("master", {"eth1": ["192.168.0.15/24"]}, [("eth1", "192.168.0.1", 100)])
    node_bad = host("node1", {"eth0": ["192.168.0.16/24"]}, [("eth0", "192.168.0.1", 100)])
    pairs = pair_hosts([master_good], [node_bad, master_bad])
    assert [(g.name, b.name) for g, b in pairs] == [("master", "master")]


def test_a_difference_on_the_blocking_step_has_an_effect() -> None:
    bad = host("master-2", {"eth1": ["192.168.0.16/24"]}, [("eth1", "192.168.0.1", 100)],
               input_rules=["-A INPUT -j REJECT --reject-with icmp-host-prohibited",
                            "-A INPUT -s 192.168.0.0/24 -j ACCEPT"],
               sysctls={"net.ipv4.ip_forward": "1"})
    step = Step(host="master-2", stage="INPUT filter", action="deny", detail="REJECT",
                check="master-2|nf|iptables|filter|INPUT|1",
                consulted=[Evidence(host="master-2", file="firewall/iptables-save", line=11, text="-j REJECT")])
    flow = blocked_flow(step)
    diffs = compare_hosts(GOOD, bad, bad_flows=[flow])
    assert diffs[0].effect and diffs[0].paths == ["node1 → master pods (REJECT)"]
    assert "on the step that blocks" in diffs[0].explanation
    delivered = flow.model_copy(update={"verdict": "reachable", "disposition": "delivered"})
    assert not compare_hosts(GOOD, bad, bad_flows=[delivered])[0].effect
