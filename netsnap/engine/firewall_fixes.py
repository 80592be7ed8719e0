"""The commands that let a stopped packet through the firewall view that stopped it: iptables (legacy or
nft-backed), firewalld (zones) and native nftables each have their own. Rules that report a firewall
block build their fix here, from the blocking step's packet and check."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from netsnap.trace.hooks import NfCheck
from netsnap.trace.result import PacketInfo

IPTABLES_VIEWS = ("iptables", "iptables-nft", "iptables-legacy")


@dataclass(frozen=True)
class Allow:
    """What must be let through: protocol, source and destination (address or network), destination port."""

    proto: str | None = None
    src: str | None = None
    dst: str | None = None
    dport: int | None = None


def allow_for(packet: PacketInfo | None, network: IPv4Network | None, forward: bool) -> Allow:
    """The narrowest allowance that covers the stopped packet: an overlay UDP packet from its peer VTEP, or
    (forwarded pod traffic) the pod network."""
    if packet is None:
        return Allow()
    if packet.proto in ("udp", "tcp") and packet.dport is not None:
        return Allow(packet.proto, packet.src, None, packet.dport)
    if forward and network is not None:
        inside_src = packet.src is not None and _inside(packet.src, network)
        return Allow(None, str(network) if inside_src else None, None if inside_src else str(network))
    return Allow(packet.proto if packet.proto != "icmp" else None, packet.src, None, None)


def _inside(ip: str, net: IPv4Network) -> bool:
    try:
        return IPv4Network(f"{ip}/32").subnet_of(net)
    except ValueError:
        return False


def _iptables_match(a: Allow) -> str:
    parts = []
    if a.proto:
        parts.append(f"-p {a.proto}")
    if a.src:
        parts.append(f"-s {a.src}")
    if a.dst:
        parts.append(f"-d {a.dst}")
    if a.dport is not None:
        parts.append(f"--dport {a.dport}")
    return " ".join([*parts, "-j ACCEPT"])


def _nft_match(a: Allow) -> str:
    parts = []
    if a.src:
        parts.append(f"ip saddr {a.src}")
    if a.dst:
        parts.append(f"ip daddr {a.dst}")
    if a.proto and a.dport is not None:
        parts.append(f"{a.proto} dport {a.dport}")
    elif a.proto:
        parts.append(f"meta l4proto {a.proto}")
    return " ".join([*parts, "accept"])


def manager_of(check: NfCheck) -> str:
    """Who owns the deciding chain, as the finding names it: `UFW` for ufw's iptables chains, else the view."""
    if check.view in IPTABLES_VIEWS and check.chain.lower().startswith("ufw"):
        return "ufw"
    return check.view


VIEW_LABELS = {"iptables": "iptables", "iptables-nft": "iptables (nf_tables backend)",
               "iptables-legacy": "iptables-legacy", "nftables": "native nftables", "firewalld": "firewalld",
               "ufw": "UFW"}


def accept_commands(check: NfCheck, allow: Allow, several_views: bool, zone: str | None = None) -> list[str]:
    """The command(s) that insert the allowance just above the rule (or policy) that decided `check`."""
    if manager_of(check) == "ufw":
        forward = "FORWARD" in check.chain.upper() or "forward" in check.chain
        src = f"from {allow.src} " if allow.src else "from any "
        dst = f"to {allow.dst} " if allow.dst else "to any "
        port = f"port {allow.dport} " if allow.dport is not None else ""
        proto = f"proto {allow.proto}" if allow.proto else ""
        return [f"ufw {'route ' if forward else ''}allow {src}{dst}{port}{proto}".strip()]
    if check.view in IPTABLES_VIEWS:
        cmd = check.view if several_views and check.view != "iptables" else "iptables"
        table = "" if check.table == "filter" else f"-t {check.table} "
        where = f" {check.position}" if check.position is not None else " 1"
        return [f"{cmd} {table}-I {check.chain}{where} {_iptables_match(allow)}"]
    if check.view == "firewalld":
        z = zone or "public"
        if allow.dport is not None and allow.proto:
            return [f"firewall-cmd --permanent --zone={z} --add-port={allow.dport}/{allow.proto}"]
        net = allow.src or allow.dst
        if net:
            return [f"firewall-cmd --permanent --zone=trusted --add-source={net}"]
        return [f"firewall-cmd --permanent --zone={z} --add-rich-rule='rule family=ipv4 accept'"]
    where = f" position {check.position}" if check.position is not None else ""
    return [f"nft insert rule {check.table} {check.chain}{where} {_nft_match(allow)}"]


def persist_hint(view: str) -> str:
    """How to make the fix survive a reboot in that view (`ufw` for ufw's chains: its rules persist)."""
    if view == "ufw":
        return "# ufw keeps its rules (/etc/ufw/user.rules); check with: ufw status numbered"
    if view in IPTABLES_VIEWS:
        return "# persist: service iptables save (RHEL 7), netfilter-persistent save (Debian), or your firewall config"
    if view == "firewalld":
        return "firewall-cmd --reload   # --permanent rules take effect after a reload"
    return "# persist: add the rule to /etc/nftables.conf (or the file your service loads)"
