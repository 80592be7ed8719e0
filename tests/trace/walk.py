"""Run one netfilter hook of the one evaluator (netsnap.trace.netfilter) for a packet on a one-host
snapshot built from an iptables-save text: the helper the chain-walk tests share."""

from __future__ import annotations

from ipaddress import IPv4Address

from netsnap.trace.index import HostIndex
from netsnap.trace.netfilter import HookResult, Netfilter
from netsnap.trace.packet import Packet
from netsnap.trace.run import Run
from tests.trace.builders import host


def hook(ruleset: str, pkt: Packet, name: str = "INPUT", me: str = "192.168.0.15/24") -> tuple[HookResult, Run]:
    """The HookResult of `pkt` at hook `name` of a host holding `ruleset`, and the run (taints, steps)."""
    h = host("me", links=[f"eth1 {me}"], routes=[f"{me.split('/')[0].rsplit('.', 1)[0]}.0/24 dev eth1"],
             iptables=ruleset)
    nf = Netfilter(HostIndex.build(h))
    run = Run([])
    return nf.hook(run, name, pkt, lambda p: IPv4Address(me.split("/")[0])), run
