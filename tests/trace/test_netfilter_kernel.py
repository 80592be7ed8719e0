"""The one netfilter evaluator agrees with the kernel: each ruleset is loaded into a namespace with
iptables-restore, a UDP datagram to the overlay port is sent from a peer namespace, and whether it
arrives must match the evaluator's verdict."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from ipaddress import IPv4Address

import pytest

from netsnap.trace.packet import Packet
from tests.lab.netns import NetnsLab, skip_reason
from tests.trace.walk import hook

pytestmark = [pytest.mark.netns, pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")]

PEER, ME, PORT = "192.168.77.1", "192.168.77.2", 8472

LISTEN = f"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", {PORT}))
s.settimeout(3)
print("ready", flush=True)
try:
    data, _ = s.recvfrom(64)
    print(data.decode())
except socket.timeout:
    print("timeout")
"""
SEND = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{PEER}", 40123))
s.sendto(b"vxlan", ("{ME}", {PORT}))
"""

CASES = {
    "reject-first": "-A INPUT -j REJECT --reject-with icmp-host-prohibited\n"
                    "-A INPUT -p udp -m udp --dport 8472 -j ACCEPT\n",
    "accept-first": "-A INPUT -s 192.168.77.0/24 -p udp -m udp --dport 8472 -j ACCEPT\n-A INPUT -j REJECT\n",
    "wrong-port": "-A INPUT -p udp -m udp --dport 4789 -j ACCEPT\n-A INPUT -j DROP\n",
    "multiport": "-A INPUT -p udp -m multiport --dports 8285,8472 -j ACCEPT\n-A INPUT -j DROP\n",
    "user-chain-drop": ":FW - [0:0]\n-A INPUT -j FW\n-A INPUT -j ACCEPT\n-A FW -p udp -j DROP\n",
    "return-then-accept": ":FW - [0:0]\n-A INPUT -j FW\n-A INPUT -j ACCEPT\n-A FW -p tcp -j DROP\n-A FW -j RETURN\n"
                          "-A FW -j DROP\n",
    "goto-falls-off": ":G - [0:0]\n-A INPUT -g G\n-A INPUT -j DROP\n-A G -p tcp -j ACCEPT\n",
    "negated-source": "-A INPUT ! -s 192.168.77.0/24 -j ACCEPT\n-A INPUT -j DROP\n",
    "iface-wildcard": "-A INPUT -i veth+ -p udp -j ACCEPT\n-A INPUT -j DROP\n",
    "state-new": "-A INPUT -m conntrack --ctstate NEW -p udp -j ACCEPT\n-A INPUT -j DROP\n",
    "policy-drop": "-A INPUT -p tcp -j ACCEPT\n",
}


@pytest.fixture(scope="module")
def lab() -> Iterator[NetnsLab]:
    with NetnsLab() as nl:
        nl.add("peer")
        nl.add("me")
        nl.veth("peer", "veth0", "me", "veth1")
        nl.sh("peer", f"ip addr add {PEER}/24 dev veth0")
        nl.sh("me", f"ip addr add {ME}/24 dev veth1")
        yield nl


def kernel_accepts(lab: NetnsLab, ruleset: str) -> bool:
    import subprocess

    lab.sh("me", f"iptables-restore <<'EOF'\n{ruleset}EOF")
    listener = subprocess.Popen(["ip", "netns", "exec", lab.ns("me"), sys.executable, "-c", LISTEN],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout is not None and listener.stdout.readline().strip() == "ready"
        subprocess.run(["ip", "netns", "exec", lab.ns("peer"), sys.executable, "-c", SEND], check=True, timeout=10)
        out, _ = listener.communicate(timeout=10)
    finally:
        listener.kill()
    return out.strip() == "vxlan"


@pytest.mark.parametrize("name", sorted(CASES))
def test_evaluator_agrees_with_kernel(lab: NetnsLab, name: str) -> None:
    policy = "DROP" if name == "policy-drop" else "ACCEPT"
    text = f"*filter\n:INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n{CASES[name]}COMMIT\n"
    pkt = Packet(IPv4Address(PEER), IPv4Address(ME), "udp", sport=40123, dport=PORT, icmp_type=None, iif="veth1")
    res, run = hook(text, pkt, me=f"{ME}/24")
    assert not run.taints
    assert (res.verdict == "ACCEPT") == kernel_accepts(lab, text), f"{name}: the evaluator says {res.verdict}"
