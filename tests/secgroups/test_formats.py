"""Loading each provider's export: detection by content, normalisation, provenance, errors."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

import pytest

from netsnap.secgroups import PortRange, SecGroupError, load_file, load_text
from netsnap.secgroups.native import NativeSyntaxError, parse_simple_yaml

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "secgroups"


@pytest.mark.parametrize(
    ("name", "provider", "groups", "count"),
    [
        ("openstack-rule-list.json", "neutron-osc", [], 4),
        ("neutron-api-rules.json", "neutron", ["sg-nodes"], 4),
        ("huawei-v3.json", "huawei-v3", ["sg-hw"], 4),
        ("aws-describe.json", "aws", ["sg-0a1b2c3d"], 3),
        ("alibaba-attribute.json", "alibaba", ["sg-ali"], 5),
        ("native.yaml", "native", ["sg-lab"], 3),
        ("incident-a-no-8472.json", "neutron-osc", [], 5),
    ],
)
def test_each_fixture_is_detected(name: str, provider: str, groups: list[str], count: int) -> None:
    sg = load_file(str(FIX / name))
    assert sg.provider == provider
    assert sg.groups == groups
    assert len(sg.rules) == count
    assert all(r.src.file.endswith(name) and r.src.line > 0 for r in sg.rules)


def test_osc_rule_list_normalises_ports_and_any_protocol() -> None:
    sg = load_file(str(FIX / "openstack-rule-list.json"))
    udp, icmp, egress, egress6 = sg.rules
    assert (udp.direction, udp.protocol, udp.ports) == ("ingress", "udp", [PortRange(lo=8472, hi=8472)])
    assert udp.remote_cidr == ip_network("192.168.0.0/24")
    assert icmp.protocol == "icmp" and icmp.ports is None
    assert egress.protocol is None and egress.direction == "egress"
    assert egress6.ethertype == 6
    assert udp.src.line == 2  # the line holding the rule's ID


def test_osc_icmp_type_code_and_missing_remote_defaults_to_any() -> None:
    text = ('[{"ID": "x", "IP Protocol": "icmp", "Port Range": "type=8:code=0", "Direction": "ingress", '
            '"IP Range": null}]')
    rule = load_text(text, "sg.json").rules[0]
    assert (rule.icmp_type, rule.icmp_code) == (8, 0)
    assert rule.remote_cidr == ip_network("0.0.0.0/0")


def test_huawei_multiport_deny_and_priority() -> None:
    sg = load_file(str(FIX / "huawei-v3.json"))
    deny, allow = sg.rules[0], sg.rules[1]
    assert deny.action == "deny" and deny.priority == 1
    assert allow.ports == [PortRange(lo=8472, hi=8472), PortRange(lo=4789, hi=4789)]
    assert sg.rules[3].protocol is None and sg.rules[3].ports is None
    assert sg.ordered


def test_aws_group_pairs_and_all_protocols() -> None:
    sg = load_file(str(FIX / "aws-describe.json"))
    udp, icmp, egress = sg.rules
    assert udp.remote_group == "sg-0a1b2c3d" and udp.remote_cidr is None
    assert icmp.icmp_type is None  # -1 = all types
    assert egress.protocol is None and egress.ports is None
    assert not sg.ordered


def test_alibaba_policy_priority_and_all_ports() -> None:
    sg = load_file(str(FIX / "alibaba-attribute.json"))
    icmp = sg.rules[0]
    telnet = sg.rules[3]
    assert icmp.ports is None and icmp.protocol == "icmp"
    assert (telnet.action, telnet.priority, telnet.ports) == ("deny", 1, [PortRange(lo=23, hi=23)])
    assert sg.rules[4].protocol is None and sg.rules[4].direction == "egress"


def test_neutron_show_with_rules_and_stateless_flag() -> None:
    text = ('{"id": "sg-1", "name": "n", "stateful": false, "rules": [{"id": "r1", "direction": "ingress", '
            '"ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 90, '
            '"remote_ip_prefix": "10.0.0.0/8"}]}')
    sg = load_text(text, "show.json")
    assert sg.provider == "neutron" and sg.groups == ["sg-1"] and not sg.stateful
    assert sg.rules[0].group_id == "sg-1" and sg.rules[0].ports == [PortRange(lo=80, hi=90)]


def test_native_json_form() -> None:
    text = ('{"format": "netsnap-sg/1", "group": "g", "rules": [{"direction": "ingress", "protocol": "tcp", '
            '"ports": "8000-8080", "remote": "group:other", "action": "deny", "priority": "5"}]}')
    rule = load_text(text, "n.json").rules[0]
    assert rule.ports == [PortRange(lo=8000, hi=8080)] and rule.remote_group == "other"
    assert (rule.action, rule.priority) == ("deny", 5)


def test_simple_yaml_subset() -> None:
    top, lines = parse_simple_yaml("format: netsnap-sg/1\n# c\nrules:\n  - direction: ingress\n    ports: '22'\n"
                                   "  -\n    direction: egress\n")
    assert top["format"] == "netsnap-sg/1"
    assert top["rules"] == [{"direction": "ingress", "ports": "22"}, {"direction": "egress"}]
    assert lines == {0: 4, 1: 6}


@pytest.mark.parametrize("text", ["  indented: first\n", "format netsnap\n", "rules: x\n", "rules:\n    k: v\n"])
def test_simple_yaml_rejects_other_shapes(text: str) -> None:
    with pytest.raises(NativeSyntaxError, match="line"):
        parse_simple_yaml(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("{not json", "invalid JSON at line 1"),
        ('{"hello": 1}', "unrecognised security-group export"),
        ("[1, 2]", "not a security-group rule list"),
        ('[{"direction": "sideways"}]', "bad direction"),
        ('{"SecurityGroups": 3}', "SecurityGroups is not a list"),
        ('{"security_group_rules": [{"direction": "ingress", "remote_ip_prefix": "300.0.0.0/8"}]}', "bad CIDR"),
        ('{"security_group_rules": [{"direction": "ingress", "multiport": "9-1"}]}', "bad port range"),
        ("key: value\n", "not JSON and not the native format"),
        ("format: netsnap-sg/1\nrules:\n  - direction: ingress\n    colour: red\n", "unknown key 'colour'"),
    ],
)
def test_bad_exports_give_one_line_errors_naming_the_file(text: str, message: str) -> None:
    with pytest.raises(SecGroupError) as info:
        load_text(text, "bad-sg.json")
    msg = str(info.value)
    assert msg.startswith("bad-sg.json: ") and message in msg and "\n" not in msg


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SecGroupError, match=r"missing\.json: cannot read"):
        load_file(str(tmp_path / "missing.json"))
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SecGroupError, match=r"bin\.json"):
        load_file(str(tmp_path / "bin.json"))
