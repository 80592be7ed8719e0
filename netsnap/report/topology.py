"""The topology picture, laid out server-side as SVG primitives the HTML template draws.

Deterministic layout: hosts in a row (snapshot order), their underlay NICs dropping to the networks
they sit on (horizontal bars below), VXLAN tunnels between VTEPs as arcs above, a dashed frame for a
host with a security group, and numbered markers linking each blocking point to its finding. The
failing path (from a trace that did not reach, or a finding's `path`) is drawn in red.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Interface, IPv4Network, ip_address

from netsnap.engine.findings import Finding, Severity
from netsnap.model import Host, Interface, Snapshot
from netsnap.trace.result import TraceResult

BOX_W = 250
GAP = 70
MARGIN = 20
ROW_H = 18
HEADER_H = 26
TOP = 110
CHAR_W = 7.2
MAX_NICS = 5
MAX_TUNNEL_HOSTS = 8

OVERLAY_KINDS = {"vxlan", "geneve", "ipip", "gre", "wireguard"}
LOCAL_KINDS = {"bridge", "veth", "dummy", "tun", "tap", "macvlan", "ipvlan"}
ROW_OF_CAUSE = {
    "iptables-reject": "firewall",
    "forward-policy-drop": "firewall",
    "br-netfilter-missing": "firewall",
    "conntrack-full": "firewall",
    "vxlan-port-blocked": "sg",
    "flannel-wrong-iface": "vtep",
    "vxlan-port-mismatch": "vtep",
    "vxlan-checksum-offload": "vtep",
    "mtu-mismatch": "vtep",
    "flannel-subnet-mismatch": "pods",
    "flannel-config-ignored": "vtep",
    "flannel-error": "vtep",
    "missing-peer-route": "routes",
    "duplicate-default-route": "routes",
    "duplicate-subnet-route": "routes",
    "cidr-overlap": "routes",
    "ip-forward-disabled": "routes",
    "rp-filter-strict": "routes",
}


def clip(text: str, width: float) -> str:
    """Shorten `text` to fit `width` pixels of the monospace label font."""
    n = max(3, int(width / CHAR_W))
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str = ""


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    cls: str = ""
    anchor: str = "start"
    title: str = ""


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float
    cls: str


@dataclass(frozen=True)
class Curve:
    d: str
    cls: str
    title: str = ""


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    number: int
    href: str
    title: str
    cls: str


@dataclass
class Topology:
    width: float = 0.0
    height: float = 0.0
    rects: list[Rect] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    description: str = ""


def _is_underlay(iface: Interface) -> bool:
    if iface.name == "lo" or "LOOPBACK" in iface.flags:
        return False
    if iface.kind in OVERLAY_KINDS or iface.kind in LOCAL_KINDS or iface.vxlan is not None:
        return False
    return any(isinstance(a.address, IPv4Interface) for a in iface.addresses)


def _v4(iface: Interface) -> IPv4Interface | None:
    for a in iface.addresses:
        if isinstance(a.address, IPv4Interface) and not a.secondary:
            return a.address
    return None


def _vtep(host: Host) -> Interface | None:
    vteps = [i for i in host.interfaces.values() if i.vxlan is not None]
    return sorted(vteps, key=lambda i: (i.name != "flannel.1", i.name))[0] if vteps else None


def _vtep_nic(host: Host, vtep: Interface | None) -> str | None:
    """The underlay NIC a VTEP sends from: its `dev`, else the NIC owning its local address."""
    if vtep is None or vtep.vxlan is None:
        return None
    if vtep.vxlan.dev:
        return vtep.vxlan.dev
    for iface in host.interfaces.values():
        if any(a.address.ip == vtep.vxlan.local for a in iface.addresses):
            return iface.name
    return None


def _pod_subnet(host: Host) -> str | None:
    se = host.flannel.subnet_env
    if se is not None and se.subnet is not None:
        return str(se.subnet.network)
    for name in ("cni0", "docker0"):
        iface = host.interfaces.get(name)
        if iface is not None and (addr := _v4(iface)) is not None:
            return str(addr.network)
    return None


def _host_of_ip(snapshot: Snapshot, ip: str) -> str | None:
    try:
        addr = ip_address(ip)
    except ValueError:
        named = snapshot.host(ip)
        return named.name if named else None
    for h in snapshot.hosts:
        if h.owns(addr):
            return h.name
    for h in snapshot.hosts:
        pod = _pod_subnet(h)
        if pod and addr in IPv4Network(pod):
            return h.name
    return None


def failing_pair(
    snapshot: Snapshot, traces: Sequence[TraceResult], findings: Sequence[Finding]
) -> tuple[str, str] | None:
    """The (source, destination) host pair of the failing path, if one can be named."""
    names = {h.name for h in snapshot.hosts}
    for t in traces:
        if t.verdict == "unreachable" and t.src_host in names:
            dst = _host_of_ip(snapshot, t.dst_ip)
            if dst and dst != t.src_host:
                return (t.src_host, dst)
    for f in findings:
        if f.severity is Severity.ERROR and f.path and "→" in f.path:
            left, right = f.path.split("→", 1)
            src = next((w for w in left.split() if w in names), None)
            dst = next((w for w in right.split() if w in names), None)
            if src and dst and src != dst:
                return (src, dst)
    return None


def _rows(host: Host, sg: str | None) -> list[tuple[str, str, str]]:
    """(kind, text, title) rows shown inside a host box, top to bottom."""
    rows: list[tuple[str, str, str]] = []
    for iface in sorted((i for i in host.interfaces.values() if _is_underlay(i)), key=lambda i: i.name)[:MAX_NICS]:
        addr = _v4(iface)
        rows.append((f"nic:{iface.name}", f"{iface.name} {addr}", f"{iface.name} {addr} ({iface.state or '?'})"))
    vtep = _vtep(host)
    if vtep is not None and vtep.vxlan is not None:
        vx = vtep.vxlan
        text = f"{vtep.name} vni {vx.vni} :{vx.dstport or '?'} local {vx.local or '?'}"
        rows.append(("vtep", text, text))
    pod = _pod_subnet(host)
    if pod:
        rows.append(("pods", f"pods {pod}", f"pod subnet {pod}"))
    rs = host.filter_ruleset
    if rs is not None:
        pols = []
        for chain in ("INPUT", "FORWARD", "OUTPUT"):
            c = rs.chain("filter", chain)
            if c is not None:
                pols.append(f"{chain[0]}:{c.policy or '-'}")
        rows.append(("firewall", "iptables " + " ".join(pols), f"iptables ({rs.variant}) policies"))
    else:
        rows.append(("firewall", "iptables: not collected", "no iptables dump in the bundle"))
    default = [r for r in host.routes_in("main") if r.is_default]
    gw = ", ".join(f"{r.gateway or '-'} {r.dev or ''}".strip() for r in default) or "none"
    rows.append(("routes", f"default via {gw}", f"{len(host.routes)} routes; default via {gw}"))
    if sg:
        rows.append(("sg", f"SG {sg}", f"security group: {sg}"))
    return rows


def build_topology(
    snapshot: Snapshot,
    findings: Sequence[Finding],
    traces: Sequence[TraceResult] = (),
    security_groups: Mapping[str, str] | None = None,
) -> Topology:
    """Lay out `snapshot` with the blocking points of `findings` (already sorted and numbered 1..n)."""
    sgs = dict(security_groups or {})
    hosts = snapshot.hosts
    pair = failing_pair(snapshot, traces, findings)
    host_rows = {h.name: _rows(h, sgs.get(h.name)) for h in hosts}
    max_rows = max((len(r) for r in host_rows.values()), default=0)
    box_h = HEADER_H + max_rows * ROW_H + 10
    bottom = TOP + box_h

    networks: dict[IPv4Network, list[tuple[str, float, str]]] = {}
    nic_x: dict[tuple[str, str], float] = {}
    topo = Topology()
    box_x: dict[str, float] = {}
    row_y: dict[tuple[str, str], float] = {}

    for i, host in enumerate(hosts):
        x = MARGIN + i * (BOX_W + GAP)
        box_x[host.name] = x
        failing = pair is not None and host.name in pair
        if sgs.get(host.name):
            sg_title = f"security group {sgs[host.name]}"
            topo.rects.append(Rect(x - 8, TOP - 8, BOX_W + 16, box_h + 16, "sgframe", sg_title))
        topo.rects.append(Rect(x, TOP, BOX_W, box_h, "host failing" if failing else "host", host.name))
        topo.labels.append(Label(x + 8, TOP + 18, clip(host.name, BOX_W - 16), "hostname", title=host.name))
        nics = [iface for iface in host.interfaces.values() if _is_underlay(iface)]
        nics = sorted(nics, key=lambda iface: iface.name)[:MAX_NICS]
        for k, iface in enumerate(nics):
            cx = x + 24 + k * ((BOX_W - 48) / max(1, len(nics) - 1) if len(nics) > 1 else 0)
            nic_x[(host.name, iface.name)] = cx
            addr = _v4(iface)
            if addr is not None:
                networks.setdefault(addr.network, []).append((host.name, cx, iface.name))
        for r, (kind, text, title) in enumerate(host_rows[host.name]):
            y = TOP + HEADER_H + 4 + r * ROW_H
            row_y[(host.name, kind)] = y
            cls = f"row row-{kind.split(':')[0]}"
            topo.labels.append(Label(x + 10, y + 9, clip(text, BOX_W - 40), cls, title=title))

    # networks as bars below the hosts, NIC drops onto them
    bars_top = bottom + 50
    red_nics: set[tuple[str, str]] = set()
    if pair is not None:
        for name in pair:
            found = snapshot.host(name)
            nic = _vtep_nic(found, _vtep(found)) if found else None
            if nic:
                red_nics.add((name, nic))
    for j, net in enumerate(sorted(networks)):
        y = bars_top + j * 44
        members = networks[net]
        xs = [cx for _, cx, _ in members]
        x1, x2 = min(xs) - 30, max(xs) + 30
        topo.rects.append(Rect(x1, y, x2 - x1, 8, "network", str(net)))
        topo.labels.append(Label(x1, y + 22, str(net), "netlabel"))
        for host_name, cx, nic in sorted(members):
            cls = "drop failing" if (host_name, nic) in red_nics else "drop"
            topo.segments.append(Segment(cx, bottom, cx, y, cls))
            topo.rects.append(Rect(cx - 4, y - 2, 8, 12, "junction failing" if "failing" in cls else "junction", nic))
            topo.labels.append(Label(cx + 4, bottom + 14, clip(nic, 60), "niclabel"))
    height: float = bars_top + max(1, len(networks)) * 44 + 20

    # overlay tunnels between VTEPs, as arcs above the boxes
    vteps = [h for h in hosts if _vtep(h) is not None]
    if len(vteps) > MAX_TUNNEL_HOSTS:  # a full mesh would hide everything; keep the failing pair only
        vteps = [h for h in vteps if pair is not None and h.name in pair]
    for a_i, a in enumerate(vteps):
        for b in vteps[a_i + 1 :]:
            xa, xb = box_x[a.name] + BOX_W / 2, box_x[b.name] + BOX_W / 2
            lift = 30 + min(60, abs(xb - xa) / 8)
            failing = pair is not None and {a.name, b.name} == set(pair)
            va, vb = _vtep(a), _vtep(b)
            port = va.vxlan.dstport if va and va.vxlan else None
            title = f"VXLAN {a.name} ↔ {b.name} udp {port or '?'}"
            topo.curves.append(
                Curve(f"M {xa:.1f} {TOP} C {xa:.1f} {TOP - lift:.1f} {xb:.1f} {TOP - lift:.1f} {xb:.1f} {TOP}",
                      "tunnel failing" if failing else "tunnel", title)
            )
            la = va.vxlan.local if va and va.vxlan else "?"
            lb = vb.vxlan.local if vb and vb.vxlan else "?"
            topo.labels.append(
                Label((xa + xb) / 2, TOP - lift * 0.75 - 4, f"vxlan {la} ↔ {lb} udp {port or '?'}",
                      "tunnellabel failing" if failing else "tunnellabel", "middle")
            )
    if pair is not None and not any("failing" in c.cls for c in topo.curves):
        xa, xb = box_x[pair[0]] + BOX_W / 2, box_x[pair[1]] + BOX_W / 2
        topo.curves.append(Curve(f"M {xa:.1f} {TOP} C {xa:.1f} {TOP - 60} {xb:.1f} {TOP - 60} {xb:.1f} {TOP}",
                                 "tunnel failing", f"{pair[0]} → {pair[1]}"))

    # numbered markers at each blocking point
    per_row: dict[tuple[str, str], int] = {}
    for n, f in enumerate(findings, start=1):
        if f.severity is Severity.INFO:
            continue
        for host_name in f.hosts:
            if host_name not in box_x:
                continue
            kind = ROW_OF_CAUSE.get(f.cause, "")
            if kind == "sg" and (host_name, "sg") not in row_y:
                kind = ""
            my = row_y.get((host_name, kind), float(TOP + 4))
            slot = per_row.get((host_name, kind), 0)
            per_row[(host_name, kind)] = slot + 1
            cls = "marker error" if f.severity is Severity.ERROR else "marker warning"
            topo.markers.append(
                Marker(box_x[host_name] + BOX_W - 12 - slot * 22, my + 5, n, f"#{f.anchor}", f"{n}. {f.cause}", cls)
            )

    topo.width = MARGIN * 2 + max(1, len(hosts)) * (BOX_W + GAP) - GAP
    topo.height = height
    desc = f"{len(hosts)} hosts, {len(networks)} networks, {len(topo.curves)} tunnels"
    if pair is not None:
        desc += f"; failing path {pair[0]} → {pair[1]} in red"
    topo.description = desc
    return topo
