"""The ordered iptables walk: first terminal verdict wins, jumps, RETURN, goto, policy, unknown matches."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from netsnap.engine.chainwalk import Packet, walk
from netsnap.model import Ruleset
from netsnap.parsers.iptables_save import parse

PEER, ME = IPv4Address("192.168.0.16"), IPv4Address("192.168.0.15")
VXLAN = Packet(PEER, ME, "udp", 8472, in_iface="eth1")


def ruleset(body: str, policies: str = ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n") -> Ruleset:
    parsed = parse(f"*filter\n{policies}{body}COMMIT\n", "firewall/iptables-save")
    assert not parsed.unparsed, parsed.unparsed
    return parsed.items[0]


def test_reject_before_accept_wins() -> None:
    rs = ruleset(
        "-A INPUT -j REJECT --reject-with icmp-host-prohibited\n-A INPUT -p udp -m udp --dport 8472 -j ACCEPT\n"
    )
    res = walk(rs, "INPUT", VXLAN)
    assert res is not None and res.action == "REJECT" and res.rule is not None and res.rule.position == 1


def test_accept_before_reject_passes() -> None:
    rs = ruleset("-A INPUT -s 192.168.0.0/24 -p udp -m udp --dport 8472 -j ACCEPT\n-A INPUT -j REJECT\n")
    res = walk(rs, "INPUT", VXLAN)
    assert res is not None and res.action == "ACCEPT" and res.rule is not None and res.rule.position == 1


@pytest.mark.parametrize(("match", "action"), [
    ("-p udp -m udp --dport 4789", "REJECT"),
    ("-p udp -m multiport --dports 8000:9000", "ACCEPT"),
    ("-p tcp -m tcp --dport 8472", "REJECT"),
    ("! -s 192.168.0.0/24 -p udp", "REJECT"),
    ("-i eth0 -p udp", "REJECT"),
    ("-i eth+ -p udp", "ACCEPT"),
    ("-m state --state RELATED,ESTABLISHED", "REJECT"),
    ("-m conntrack --ctstate NEW", "ACCEPT"),
])
def test_matches(match: str, action: str) -> None:
    rs = ruleset(f"-A INPUT {match} -j ACCEPT\n-A INPUT -j REJECT\n")
    res = walk(rs, "INPUT", VXLAN)
    assert res is not None and res.action == action


def test_jump_return_and_policy() -> None:
    rs = ruleset(
        ":KUBE-FW - [0:0]\n-A INPUT -j KUBE-FW\n-A KUBE-FW -p tcp -j DROP\n-A KUBE-FW -j RETURN\n-A KUBE-FW -j DROP\n",
        policies=":INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n",
    )
    res = walk(rs, "INPUT", VXLAN)
    assert res is not None and res.action == "DROP" and res.rule is None and res.policy_chain is not None
    assert [r.target.name for r in res.trail if r.target] == ["KUBE-FW", "RETURN"]


def test_drop_inside_user_chain_decides() -> None:
    rs = ruleset(":FW - [0:0]\n-A INPUT -j FW\n-A INPUT -j ACCEPT\n-A FW -p udp -j DROP\n")
    res = walk(rs, "INPUT", VXLAN)
    assert res is not None and res.action == "DROP" and res.rule is not None and res.rule.chain == "FW"


def test_goto_does_not_come_back() -> None:
    rs = ruleset(":G - [0:0]\n-A INPUT -g G\n-A INPUT -j REJECT\n-A G -p tcp -j ACCEPT\n",
                 policies=":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
    res = walk(rs, "INPUT", VXLAN)
    assert res is not None and res.action == "ACCEPT" and res.rule is None  # fell off G: back to INPUT's caller


def test_unknown_match_is_recorded_not_guessed() -> None:
    rs = ruleset("-A INPUT -m set --match-set cluster src -j ACCEPT\n-A INPUT -j REJECT\n")
    res = walk(rs, "INPUT", VXLAN)
    assert res is not None and res.action == "REJECT" and not res.certain
    assert any("set" in u for u in res.unknown)


def test_missing_chain() -> None:
    assert walk(ruleset(""), "NOPE", VXLAN) is None
