"""Evaluation semantics per provider, three-valued, and attaching exports to snapshot hosts."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsnap.secgroups import SecGroupError, SecurityGroups, attach, evaluate, load_file, load_text, required_rule
from tests.trace.builders import overlay

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "secgroups"


def sg(name: str):  # type: ignore[no-untyped-def]
    return [load_file(str(FIX / name))]


def test_allow_only_union_and_default_deny() -> None:
    sets = sg("openstack-rule-list.json")
    assert evaluate(sets, "ingress", "udp", 8472, "192.168.0.11").allowed is True
    denied = evaluate(sets, "ingress", "udp", 8472, "172.16.0.4")
    assert denied.allowed is False and "ingress udp 8472 from 172.16.0.4" in denied.reason
    assert evaluate(sets, "ingress", "tcp", 22, "192.168.0.11").allowed is False
    assert evaluate(sets, "egress", "tcp", 443, "8.8.8.8").allowed is True


def test_incident_a_export_lacks_8472() -> None:
    sets = sg("incident-a-no-8472.json")
    d = evaluate(sets, "ingress", "udp", 8472, "192.168.0.11")
    assert d.allowed is False and "needs ingress udp 8472 from 192.168.0.11" in d.reason
    assert evaluate(sets, "ingress", "icmp", None, "192.168.0.11").allowed is True


def test_huawei_deny_beats_allow_at_the_same_priority() -> None:
    sets = sg("huawei-v3.json")
    d = evaluate(sets, "ingress", "udp", 8472, "192.168.0.99")
    assert d.allowed is False and d.rule is not None and d.rule.rule_id == "hw-deny-99"
    assert evaluate(sets, "ingress", "udp", 8472, "192.168.0.5").allowed is True
    assert evaluate(sets, "ingress", "udp", 4789, "192.168.0.5").allowed is True
    assert evaluate(sets, "ingress", "udp", 8285, "192.168.0.5").allowed is False


def test_alibaba_priority_order() -> None:
    sets = sg("alibaba-attribute.json")
    assert evaluate(sets, "ingress", "tcp", 23, "1.2.3.4").allowed is False  # Drop at priority 1
    assert evaluate(sets, "ingress", "tcp", 22, "1.2.3.4").allowed is True  # Accept at 100
    assert evaluate(sets, "egress", "udp", 53, "1.2.3.4").allowed is True


def test_remote_group_needs_membership() -> None:
    snap = overlay()
    sets = sg("aws-describe.json")
    groups = SecurityGroups(attached={"master": sets, "node1": sets})
    host_of = {"192.168.0.10": "master", "192.168.0.11": "node1"}.get
    ok = evaluate(sets, "ingress", "udp", 8472, "192.168.0.10", groups=groups, host_of_ip=host_of)
    assert ok.allowed is True
    # the sender has no export: its membership is unknown
    partial = SecurityGroups(attached={"node1": sets})
    unknown = evaluate(sets, "ingress", "udp", 8472, "192.168.0.10", groups=partial, host_of_ip=host_of)
    assert unknown.allowed is None and "membership of group sg-0a1b2c3d" in unknown.reason
    # a sender in another group does not match
    other = load_text('{"SecurityGroups": [{"GroupId": "sg-other", "IpPermissions": []}]}', "o.json")
    groups2 = SecurityGroups(attached={"master": [other], "node1": sets})
    assert evaluate(sets, "ingress", "udp", 8472, "192.168.0.10", groups=groups2, host_of_ip=host_of).allowed is False
    assert snap.host("192.168.0.10") is not None


def test_address_group_is_undecidable() -> None:
    sets = [load_text('{"security_group_rules": [{"direction": "ingress", "protocol": "udp", '
                      '"remote_address_group_id": "ag-1"}]}', "ag.json")]
    d = evaluate(sets, "ingress", "udp", 8472, "10.0.0.1")
    assert d.allowed is None and "address group ag-1" in d.reason


def test_icmp_type_matching() -> None:
    sets = [load_text('[{"ID": "x", "IP Protocol": "icmp", "Port Range": "type=0", "Direction": "ingress", '
                      '"IP Range": "0.0.0.0/0"}]', "t.json")]
    assert evaluate(sets, "ingress", "icmp", None, "1.1.1.1", icmp_type=8).allowed is False
    assert evaluate(sets, "ingress", "icmp", None, "1.1.1.1", icmp_type=0).allowed is True


def test_required_rule_text() -> None:
    assert required_rule("ingress", "udp", 8472, "192.168.0.0/24") == "ingress udp 8472 from 192.168.0.0/24"
    assert required_rule("egress", "icmp", None, "10.0.0.1") == "egress icmp to 10.0.0.1"


def test_attach_by_name_and_by_ip() -> None:
    snap = overlay()
    groups = attach(snap, f"master={FIX / 'native.yaml'}")
    groups = attach(snap, f"192.168.0.11={FIX / 'aws-describe.json'}", groups)
    assert set(groups.attached) == {"master", "node1"}
    assert groups.members("sg-0a1b2c3d") == ["node1"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [("nofile", "expected HOST=FILE"), ("ghost=x.json", "host 'ghost' is not in the snapshot"),
     ("master=/nonexistent/sg.json", "/nonexistent/sg.json: cannot read")],
)
def test_attach_errors(spec: str, message: str) -> None:
    with pytest.raises(SecGroupError, match=message):
        attach(overlay(), spec)


def test_old_osc_listing_without_direction_leaves_egress_unknown() -> None:
    text = '[{"ID": "x", "IP Protocol": "udp", "IP Range": "10.0.0.0/8", "Port Range": "8472:8472"}]'
    sets = [load_text(text, "old-osc.json")]
    assert sets[0].directions == ["ingress"]
    assert evaluate(sets, "ingress", "udp", 8472, "10.1.2.3").allowed is True
    egress = evaluate(sets, "egress", "udp", 8472, "10.1.2.3")
    assert egress.allowed is None and "does not describe egress" in egress.reason
    # AWS states its egress explicitly: an empty list denies
    aws = [load_text('{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [], "IpPermissionsEgress": []}]}',
                     "aws.json")]
    assert evaluate(aws, "egress", "udp", 8472, "10.1.2.3").allowed is False
