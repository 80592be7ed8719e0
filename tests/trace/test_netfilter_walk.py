"""The one netfilter evaluator walks a chain as the kernel does: first terminal verdict wins, jumps,
RETURN, goto, policy; an undecidable match taints the run instead of being guessed."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from netsnap.trace.packet import Packet
from tests.trace.walk import hook

PEER, ME = IPv4Address("192.168.0.16"), IPv4Address("192.168.0.15")
VXLAN = Packet(PEER, ME, "udp", sport=40000, dport=8472, icmp_type=None, iif="eth1")
POLICIES = ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"


def text(body: str, policies: str = POLICIES) -> str:
    return f"*filter\n{policies}{body}COMMIT\n"


def test_reject_before_accept_wins() -> None:
    res, _ = hook(text("-A INPUT -j REJECT --reject-with icmp-host-prohibited\n"
                       "-A INPUT -p udp -m udp --dport 8472 -j ACCEPT\n"), VXLAN)
    assert res.verdict == "REJECT" and res.reject_with == "icmp-host-prohibited"
    assert res.decider is not None and res.decider.chain == "INPUT" and res.decider.position == 1
    assert res.check == "me|nf|iptables|filter|INPUT|1"


def test_accept_before_reject_passes() -> None:
    res, _ = hook(text("-A INPUT -s 192.168.0.0/24 -p udp -m udp --dport 8472 -j ACCEPT\n-A INPUT -j REJECT\n"), VXLAN)
    assert res.verdict == "ACCEPT"


@pytest.mark.parametrize(("match", "verdict"), [
    ("-p udp -m udp --dport 4789", "REJECT"),
    ("-p udp -m multiport --dports 8000:9000", "ACCEPT"),
    ("-p tcp -m tcp --dport 8472", "REJECT"),
    ("! -s 192.168.0.0/24 -p udp", "REJECT"),
    ("-i eth0 -p udp", "REJECT"),
    ("-i eth+ -p udp", "ACCEPT"),
    ("-m state --state RELATED,ESTABLISHED", "REJECT"),
    ("-m conntrack --ctstate NEW", "ACCEPT"),
    ("-p udp -m udp --sport 40000", "ACCEPT"),
    ("-p udp -m udp --sport 53", "REJECT"),
])
def test_matches(match: str, verdict: str) -> None:
    res, _ = hook(text(f"-A INPUT {match} -j ACCEPT\n-A INPUT -j REJECT\n"), VXLAN)
    assert res.verdict == verdict


def test_jump_return_and_policy() -> None:
    res, _ = hook(text(":KUBE-FW - [0:0]\n-A INPUT -j KUBE-FW\n-A KUBE-FW -p tcp -j DROP\n-A KUBE-FW -j RETURN\n"
                       "-A KUBE-FW -j DROP\n", ":INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"),
                  VXLAN)
    assert res.verdict == "DROP" and res.decider is not None and res.decider.position is None
    assert res.check == "me|nf|iptables|filter|INPUT|policy"
    assert [e.text for e in res.consulted][:2] == ["-A INPUT -j KUBE-FW", "-A KUBE-FW -j RETURN"]


def test_drop_inside_user_chain_decides() -> None:
    res, _ = hook(text(":FW - [0:0]\n-A INPUT -j FW\n-A INPUT -j ACCEPT\n-A FW -p udp -j DROP\n"), VXLAN)
    assert res.verdict == "DROP" and res.decider is not None and res.decider.chain == "FW"


def test_goto_does_not_come_back() -> None:
    res, _ = hook(text(":G - [0:0]\n-A INPUT -g G\n-A INPUT -j REJECT\n-A G -p tcp -j ACCEPT\n"), VXLAN)
    assert res.verdict == "ACCEPT"  # fell off G: back to INPUT's caller, i.e. the policy


def test_unknown_match_taints_instead_of_guessing() -> None:
    res, run = hook(text("-A INPUT -m set --match-set cluster src -j ACCEPT\n-A INPUT -j REJECT\n"), VXLAN)
    assert res.verdict == "REJECT"
    assert [t.could for t in run.taints] == ["pass"] and "ipset cluster is not in the bundle" in run.taints[0].reason


def test_legacy_and_nft_views_both_apply() -> None:
    from netsnap.trace.index import HostIndex
    from netsnap.trace.netfilter import Netfilter
    from netsnap.trace.run import Run
    from tests.trace.builders import host, parse_iptables_save

    h = host("me", links=["eth1 192.168.0.15/24"], routes=["192.168.0.0/24 dev eth1"], iptables=text(""))
    legacy = parse_iptables_save(text("-A INPUT -j REJECT\n"), "firewall/iptables-legacy-save")
    h.iptables["iptables-legacy"] = legacy.model_copy(update={"variant": "iptables-legacy"})
    run = Run([])
    res = Netfilter(HostIndex.build(h)).hook(run, "INPUT", VXLAN, lambda p: None)
    assert res.verdict == "REJECT" and res.decider is not None and res.decider.view == "iptables-legacy"
    assert [s.stage for s in run.steps if s.action == "deny"] == ["INPUT filter [iptables-legacy]"]
