"""Overlay facts, computed once per snapshot: each host's flannel backend, network, lease, VXLAN device,
VTEP address and port, and the peers each host should reach (from the other bundles, or from its own fdb
and journal when it is analysed alone). The one place these are derived: the trace, the graph, the rules,
the report's topology and the diff read them from here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, ip_address

from netsnap.model import FlannelEvent, Host, Interface, Provenance, Snapshot
from netsnap.model.evidence import Evidence, quote, quote_at
from netsnap.parsers.ipv4 import address as logged_address  # a corrupt or hand-edited log must not stop us

DEFAULT_VXLAN_PORT = 8472  # the Linux vxlan module's default udp_port (flannel leaves Port at 0)
DEFAULT_PORTS = {"vxlan": DEFAULT_VXLAN_PORT, "udp": 8285}
OVERHEAD = {"vxlan": 50, "udp": 28, "host-gw": 0, "ipip": 20, "wireguard": 80}

_USING_IP = re.compile(r"Using (\d+\.\d+\.\d+\.\d+) as external (interface|endpoint|address)")
# flanneld's interface choice (v0.7+ and v0.5 message families); completion.py reads USING_NAME too
USING_NAME = re.compile(r"Using interface with name (\S+) and address (\d+\.\d+\.\d+\.\d+)")
_DEFAULTING = re.compile(r"Defaulting external address to interface address \((\d+\.\d+\.\d+\.\d+)\)")
_PEER_EVENT = re.compile(r"PublicIP: ?(\d+\.\d+\.\d+\.\d+)")
_SUBNET = re.compile(r"(\d+\.\d+\.\d+\.\d+/\d+)")


@dataclass
class JournalChoice:
    """What flanneld's journal says it chose: interface name (when logged), address, public address."""

    iface: str | None = None
    address: IPv4Address | None = None
    public: IPv4Address | None = None
    evidence: list[Evidence] = field(default_factory=list)
    when: datetime | None = None


@dataclass
class Peer:
    """A node this host's overlay must reach: its VTEP (public) address and pod lease, and where we learnt it."""

    name: str
    vtep: IPv4Address | None
    lease: IPv4Network | None
    origin: str
    evidence: list[Evidence] = field(default_factory=list)
    host: Host | None = None
    facts: OverlayFacts | None = None  # the peer's own overlay facts, when its bundle is analysed


@dataclass
class OverlayFacts:
    host: Host
    backend: str = "unknown"
    network: IPv4Network | None = None
    lease: IPv4Network | None = None
    device: Interface | None = None
    vtep: IPv4Address | None = None
    vtep_iface: str | None = None
    port: int | None = None
    port_is_default: bool = False
    vni: int | None = None
    bridge: Interface | None = None
    journal: JournalChoice = field(default_factory=JournalChoice)
    network_inferred: bool = False  # no subnet.env / net-conf: the pod network was read from the kernel state
    evidence: dict[str, Evidence] = field(default_factory=dict)

    @property
    def has_flannel(self) -> bool:
        return self.network is not None or self.device is not None or self.lease is not None


def _first_v4(iface: Interface) -> IPv4Interface | None:
    for a in iface.addresses:
        if isinstance(a.address, IPv4Interface):
            return a.address
    return None


def owner_of(host: Host, ip: IPv4Address) -> Interface | None:
    for iface in host.interfaces.values():
        if any(a.address.ip == ip for a in iface.addresses):
            return iface
    return None


def journal_choice(host: Host) -> JournalChoice:
    """The last interface/address choice flanneld logged (both the v0.5 and the v0.7+ message families)."""
    choice = JournalChoice()
    for ev in host.flannel.events:
        msg = ev.message
        using, defaulting = "Using " in msg, "Defaulting external" in msg  # what each pattern starts with
        if not using and not defaulting:
            continue
        m = USING_NAME.search(msg) if using else None
        if m and (named := logged_address(m.group(2))) is not None:
            choice.iface, choice.address = m.group(1), named
            choice.public = None
            choice.evidence = [quote(host.name, ev)]
            choice.when = ev.timestamp
            continue
        m = _USING_IP.search(msg) if using else None
        if m and (addr := logged_address(m.group(1))) is not None:
            if m.group(2) == "interface":
                choice.iface, choice.address, choice.public = None, addr, None
                choice.evidence = [quote(host.name, ev)]
            else:
                choice.public = addr
                choice.evidence.append(quote(host.name, ev))
            choice.when = ev.timestamp
            continue
        m = _DEFAULTING.search(msg) if defaulting else None
        if m and (public := logged_address(m.group(1))) is not None:
            choice.public = public
            choice.evidence.append(quote(host.name, ev))
    if choice.address is not None and choice.iface is None:
        owner = owner_of(host, choice.address)
        choice.iface = owner.name if owner else None
    return choice


def _flannel_device(host: Host) -> Interface | None:
    for name in sorted(host.interfaces):
        iface = host.interfaces[name]
        if name.startswith("flannel.") and iface.vxlan is not None:
            return iface
    for name in sorted(host.interfaces):
        iface = host.interfaces[name]
        if iface.vxlan is not None or name in ("flannel.1", "flannel0"):
            return iface
    return None


def overlay_facts(host: Host) -> OverlayFacts:
    f = OverlayFacts(host=host)
    fl = host.flannel
    if fl.subnet_env is not None:
        se = fl.subnet_env
        if se.network is not None:
            f.network = se.network
            f.evidence["network"] = quote_at(
                host.name, _line(se.src, se.lines.get("FLANNEL_NETWORK")), f"FLANNEL_NETWORK={se.network}"
            )
        if se.subnet is not None:
            f.lease = se.subnet.network
            f.evidence["lease"] = quote_at(
                host.name, _line(se.src, se.lines.get("FLANNEL_SUBNET")), f"FLANNEL_SUBNET={se.subnet}"
            )
    if fl.net_conf is not None:
        nc = fl.net_conf
        f.backend = nc.backend_type.lower()
        if f.network is None and nc.network is not None:
            f.network = nc.network
            f.evidence["network"] = quote_at(host.name, nc.src, f'"Network": "{nc.network}"')
    dev = _flannel_device(host)
    f.device = dev
    if dev is not None:
        if dev.vxlan is not None:
            if f.backend == "unknown":
                f.backend = "vxlan"
            f.vni = dev.vxlan.vni
            if dev.vxlan.local is not None and isinstance(dev.vxlan.local, IPv4Address):
                f.vtep = dev.vxlan.local
                f.evidence["vtep"] = quote_at(host.name, dev.vxlan.src, _vxlan_text(dev))
            f.vtep_iface = dev.vxlan.dev
            if dev.vxlan.dstport is not None:
                f.port = dev.vxlan.dstport
                f.evidence["port"] = quote_at(host.name, dev.vxlan.src, _vxlan_text(dev))
        elif dev.name == "flannel0" and f.backend == "unknown":
            f.backend = "udp"
        if f.lease is None:
            addr = _first_v4(dev)
            if addr is not None:
                plen = fl.net_conf.subnet_len if fl.net_conf and fl.net_conf.subnet_len else 24
                f.lease = IPv4Network(f"{addr.ip}/{plen}", strict=False)
                f.evidence["lease"] = quote(host.name, dev.addresses[0])
        if f.network is None and f.lease is not None:
            _infer_network(host, f, dev)
    if f.backend == "unknown" and f.network is not None:
        f.backend = "vxlan"
    if f.port is None and f.backend in DEFAULT_PORTS:
        nc_port = fl.net_conf.port if fl.net_conf else None
        f.port = nc_port or DEFAULT_PORTS[f.backend]
        f.port_is_default = nc_port is None
    f.journal = journal_choice(host)
    if f.vtep is None:
        chosen = f.journal.public or f.journal.address
        if chosen is not None:
            f.vtep = chosen
            if f.journal.evidence:
                f.evidence["vtep"] = f.journal.evidence[-1]
    if f.vtep_iface is None and f.vtep is not None:
        owner = owner_of(host, f.vtep)
        f.vtep_iface = owner.name if owner else f.journal.iface
    if f.lease is not None:
        for name in sorted(host.interfaces):
            iface = host.interfaces[name]
            if iface is dev:
                continue
            if any(isinstance(a.address, IPv4Interface) and a.address.ip in f.lease for a in iface.addresses):
                f.bridge = iface
                break
    return f


def _infer_network(host: Host, f: OverlayFacts, dev: Interface) -> None:
    """Without subnet.env or net-conf.json (sosreports often lack /run/flannel), read the pod network from
    what flanneld put in the kernel: an old-style flannel.1 address (`lease.0/16`) or a whole-network route
    on the device, else the supernet of this lease and the peer leases routed via the device, widened to
    /16 (flannel's usual Network size)."""
    assert f.lease is not None
    addr = _first_v4(dev)
    if addr is not None and addr.network.prefixlen < f.lease.prefixlen:
        f.network, f.network_inferred = addr.network, True
        f.evidence["network"] = quote(host.name, dev.addresses[0])
        return
    leases = [f.lease]
    for r in host.routes_in("main"):
        if r.dev != dev.name or r.is_default or not isinstance(r.dst, IPv4Network):
            continue
        if r.dst.prefixlen < f.lease.prefixlen:
            f.network, f.network_inferred = r.dst, True
            f.evidence["network"] = quote(host.name, r)
            return
        leases.append(r.dst)
    net = leases[0]
    while net.prefixlen > 0 and not all(lease.subnet_of(net) for lease in leases):
        net = net.supernet()
    if net.prefixlen > 16:
        net = net.supernet(new_prefix=16)
    f.network, f.network_inferred = net, True
    f.evidence["network"] = quote_at(host.name, dev.src, f"{dev.name}: pod network inferred as {net} (no subnet.env)")


def _line(src: Provenance, line: int | None) -> Provenance:
    return Provenance(file=src.file, line=line or src.line)


def _vxlan_text(dev: Interface) -> str:
    vx = dev.vxlan
    if vx is None:
        return dev.raw
    parts = [f"vxlan id {vx.vni}"]
    if vx.local is not None:
        parts.append(f"local {vx.local}")
    if vx.dev:
        parts.append(f"dev {vx.dev}")
    if vx.dstport is not None:
        parts.append(f"dstport {vx.dstport}")
    return f"{dev.name}: " + " ".join(parts)


def overlay_absent(host: Host) -> str | None:
    """Why `host` is known to run no overlay, or None when it runs one or the bundle cannot tell. Known
    absent: its links were read (no flannel or VXLAN device), and no flannel lease, configuration, process
    or log is there."""
    if not any(host.has(s) for s in ("ip_link", "ip_addr", "ip_link_stats")):
        return None
    fl = host.flannel
    if _flannel_device(host) is not None or fl.subnet_env is not None or fl.net_conf is not None:
        return None
    if fl.events or fl.env_files or fl.unit is not None or fl.options_env or fl.process_config is not None:
        return None
    return "no flannel or VXLAN device, and no flannel lease, configuration, process or log in the bundle"


class Cluster:
    """Overlay facts of every host and the peers each one should reach."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.facts: dict[str, OverlayFacts] = {h.name: overlay_facts(h) for h in snapshot.hosts}
        self._peers: dict[int, list[Peer]] = {}

    def of(self, host: Host) -> OverlayFacts:
        f = self.facts.get(host.name)
        if f is None or f.host is not host:
            f = overlay_facts(host)
            self.facts[host.name] = f
        return f

    def peers(self, host: Host) -> list[Peer]:
        """The other nodes: bundles in this snapshot first, then peers named by this host's fdb and journal.
        Computed once per host and run (rules must not modify the snapshot)."""
        cached = self._peers.get(id(host))
        if cached is None:
            cached = self._peers[id(host)] = self._find_peers(host)
        return list(cached)

    def _find_peers(self, host: Host) -> list[Peer]:
        out: list[Peer] = []
        seen_vteps: set[IPv4Address] = set()
        for other in self.snapshot.hosts:
            if other is host:
                continue
            of = self.of(other)
            if not of.has_flannel:
                continue
            ev = [of.evidence[k] for k in ("vtep", "lease") if k in of.evidence]
            out.append(Peer(other.name, of.vtep, of.lease, "bundle", ev, other, of))
            if of.vtep is not None:
                seen_vteps.add(of.vtep)
        mine = self.of(host)
        dev = mine.device.name if mine.device else None
        for fdb in host.fdb:
            if fdb.dst is None or not isinstance(fdb.dst, IPv4Address) or (dev and fdb.dev != dev):
                continue
            if fdb.dst in seen_vteps or fdb.dst == mine.vtep or fdb.mac == "00:00:00:00:00:00":
                continue
            seen_vteps.add(fdb.dst)
            out.append(Peer(str(fdb.dst), fdb.dst, None, "fdb", [quote(host.name, fdb)]))
        for event in host.flannel.events:
            vt = _event_public_ip(event)
            if vt is None or vt in seen_vteps or vt == mine.vtep:
                continue
            seen_vteps.add(vt)
            out.append(Peer(str(vt), vt, _event_subnet(event), "journal", [quote(host.name, event)]))
        return out

    def path(self, host: Host, peers: list[Peer] | None = None) -> str | None:
        """Name the traffic a cause on `host` breaks: `master → node1 pods (172.18.5.0/24)`."""
        peers = self.peers(host) if peers is None else peers
        if not peers:
            return None
        if len(peers) == 1:
            p = peers[0]
            lease = f" ({p.lease})" if p.lease else ""
            return f"{host.name} → {p.name} pods{lease}"
        net = self.of(host).network
        names = ", ".join(p.name for p in peers[:3]) + (", …" if len(peers) > 3 else "")
        return f"{host.name} → pods on {names}" + (f" ({net})" if net else "")


def _event_public_ip(ev: FlannelEvent) -> IPv4Address | None:
    if ev.kind not in ("peer-event", "subnet-added"):
        return None
    raw = ev.fields.get("public_ip") or ev.fields.get("via")
    if raw is None:
        m = _PEER_EVENT.search(ev.message)
        raw = m.group(1) if m else None
        if raw is None and " via " in ev.message:
            raw = ev.message.rsplit(" via ", 1)[1].strip()
    try:
        ip = ip_address(raw) if raw else None
    except ValueError:
        return None
    return ip if isinstance(ip, IPv4Address) else None


def _event_subnet(ev: FlannelEvent) -> IPv4Network | None:
    raw = ev.fields.get("subnet")
    if raw is None:
        m = _SUBNET.search(ev.message)
        raw = m.group(1) if m else None
    try:
        return IPv4Network(raw, strict=False) if raw else None
    except ValueError:
        return None


def connected_networks(host: Host) -> list[tuple[Interface, IPv4Interface]]:
    """(interface, address) of every IPv4 address that is not host-scoped or /32."""
    out = []
    for name in sorted(host.interfaces):
        iface = host.interfaces[name]
        for a in iface.addresses:
            if isinstance(a.address, IPv4Interface) and a.address.network.prefixlen < 32 and a.scope != "host":
                out.append((iface, a.address))
    return out
