"""The topology picture, drawn from the reachability graph (netsnap.graph.reachability) as SVG primitives
the HTML template writes out: the rules and the picture read the same graph.

Layout (deterministic, server-side): the hosts in a row (snapshot order) spread over the full width; in
each host box its underlay NICs, its VXLAN device with its local address, its pod network, its firewall,
every default route and its security groups, each fact on as many lines as it needs (never clipped);
the L3 segments as bars below, each NIC dropping onto its segment; above the boxes one arc per direction
between two hosts, coloured by the worst answer of the required flows that go that way (red blocked,
orange dashed undecided, green reachable). Peers named by the bundles but not in them are small dashed
boxes. Numbered markers sit on the row of each error or warning (the cause's `row` in
netsnap.engine.causes) and link to the finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netsnap.engine.causes import CAUSES
from netsnap.engine.findings import Finding, Severity
from netsnap.graph.reachability import FlowResult, ReachabilityGraph
from netsnap.model import Host

CANVAS_W = 1150  # the picture is laid out for this width and scales to the page
MIN_BOX_W = 250
MAX_BOX_W = 380
GAP = 90
MARGIN = 24
LINE_H = 15
ROW_GAP = 4
HEADER_H = 28
TOP = 150  # room for the arcs above the boxes
CHAR_W = 6.7  # monospace 11px
PEER_W = 170
MAX_ARC_HOSTS = 8  # above this, only arcs with a blocked or undecided flow are drawn
STATE_RANK = {"reachable": 0, "undecided": 1, "blocked": 2}
VERDICT_STATE = {"reachable": "reachable", "unknown": "undecided", "unreachable": "blocked"}


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


@dataclass(frozen=True)
class MarkerNote:
    """The legend line of one marker: its number, where it sits and what it says."""

    number: int
    href: str
    host: str
    row: str
    text: str
    severity: str


@dataclass
class Topology:
    width: float = 0.0
    height: float = 0.0
    rects: list[Rect] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    arrows: list[str] = field(default_factory=list)  # polygon points of arrowheads, with their class
    labels: list[Label] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    notes: list[MarkerNote] = field(default_factory=list)
    arcs: list[tuple[str, str, str, str]] = field(default_factory=list)  # (src, dst, state, summary)
    description: str = ""


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces (a longer word is split)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = "  " + word
    if line:
        lines.append(line)
    return lines or [""]


def _host_rows(graph: ReachabilityGraph, host: Host, sg_labels: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(row kind, text, title) for the facts shown in a host box, top to bottom."""
    g = graph.g
    name = host.name
    rows: list[tuple[str, str, str]] = []
    vtep: dict[str, Any] = dict(g.nodes[("vtep", name)]) if ("vtep", name) in g else {}
    pods: dict[str, Any] = dict(g.nodes[("pods", name)]) if ("pods", name) in g else {}
    skip = {vtep.get("device"), pods.get("bridge")}
    for _, iface in sorted(g.out_edges(("host", name))):
        if iface[0] != "iface":
            continue
        data = g.nodes[iface]
        if data["name"] in skip or data["name"] == "lo" or data.get("kind") in ("veth", "bridge", "vxlan"):
            continue
        addrs = [d["address"] + "/" + seg[1].split("/")[1] for _, seg, d in g.out_edges(iface, data=True)
                 if d.get("kind") == "attached"]
        if not addrs:
            continue
        state = "" if data.get("up") else " DOWN"
        mtu = f" mtu {data['mtu']}" if data.get("mtu") not in (None, 1500) else ""
        text = f"{data['name']} {' '.join(addrs)}{mtu}{state}"
        rows.append((f"nic:{data['name']}", text, text))
    if vtep:
        vni = vtep.get("vni") if vtep.get("vni") is not None else "?"
        text = (f"{vtep.get('device') or 'VTEP'}: vxlan vni {vni}, udp {vtep.get('port') or '?'}\n"
                f"local {vtep.get('address') or '?'} on {vtep.get('iface') or '?'}")
        rows.append(("vtep", text, text.replace("\n", " ")))
    if pods:
        text = f"pods {pods['lease']}" + (f" on {pods['bridge']}" if pods.get("bridge") else "")
        rows.append(("pods", text, text))
    rows.append(("firewall", *_firewall(host)))
    defaults = [r for r in host.routes_in("main") if r.is_default]
    if not defaults:
        rows.append(("routes", "no default route", f"{len(host.routes)} routes, none default"))
    for r in defaults:
        via = r.gateway or " ".join(str(n.gateway or "") for n in r.nexthops).strip() or "-"
        text = f"default via {via} dev {r.dev or '?'} metric {r.metric}"
        rows.append(("routes", text, r.raw or text))
    groups = [sg[1] for _, sg in g.out_edges(("host", name)) if sg[0] == "sg"]
    label = sg_labels.get(name)
    if groups or label:
        text = "SG " + (label or "") + (f" ({', '.join(groups)})" if groups and label else ", ".join(groups))
        rows.append(("sg", text, f"security group: {text[3:]}"))
    return rows


def _firewall(host: Host) -> tuple[str, str]:
    rs = host.filter_ruleset
    parts: list[str] = []
    if rs is not None:
        pols = []
        for c in ("INPUT", "FORWARD", "OUTPUT"):
            ch = rs.chain("filter", c)
            if ch is None:
                continue
            stops = sum(1 for r in ch.rules if r.target is not None and r.target.name in ("REJECT", "DROP"))
            pols.append(f"{c} {ch.policy or '-'}" + (f" +{stops} REJECT/DROP" if stops else ""))
        name = "iptables" if rs.variant in ("iptables", "list") else rs.variant
        parts.append(f"{name}: " + ", ".join(pols))
    if host.nftables is not None and host.nftables.tables:
        parts.append(f"nftables {len(host.nftables.tables)} tables")
    if host.firewalld is not None and host.firewalld.running:
        parts.append(f"firewalld zone {host.firewalld.default_zone or '?'}")
    if not parts:
        collected = any(st.usable or st.empty_answer for sid, st in host.sources.items()
                        if sid.startswith(("iptables", "nft")))
        return ("firewall: no rules loaded", "an empty ruleset") if collected else \
            ("firewall: not collected", "no firewall dump in the bundle")
    text = "; ".join(parts)
    return text, text


def _state(results: Sequence[FlowResult]) -> str:
    return max((VERDICT_STATE[r.verdict] for r in results), key=STATE_RANK.__getitem__, default="reachable")


def build_topology(
    graph: ReachabilityGraph,
    findings: Sequence[Finding],
    security_groups: Mapping[str, str] | None = None,
) -> Topology:
    """Lay out `graph` with the markers of `findings` (in the one finding order, numbered 1..n)."""
    sg_labels = dict(security_groups or {})
    hosts = list(graph.snapshot.hosts)
    topo = Topology()
    n = max(1, len(hosts))
    box_w = max(MIN_BOX_W, min(MAX_BOX_W, (CANVAS_W - 2 * MARGIN - (n - 1) * GAP) / n))
    gap = GAP if n == 1 else max(GAP, (CANVAS_W - 2 * MARGIN - n * box_w) / (n - 1))
    chars = int((box_w - 40) / CHAR_W)
    rows = {h.name: _host_rows(graph, h, sg_labels) for h in hosts}
    lines = {h: [(kind, [w for part in text.split("\n") for w in wrap(part, chars)], title) for kind, text, title in rs]
             for h, rs in rows.items()}
    heights = {h: HEADER_H + sum(len(ls) * LINE_H + ROW_GAP for _, ls, _ in rs) + 8 for h, rs in lines.items()}
    box_h = max(heights.values(), default=HEADER_H + 8)
    bottom = TOP + box_h

    # which hosts sit on a blocked flow
    flows = [r for r in graph.flows() if r.flow.kind != "overlay-in"]
    failing = {h for r in flows if r.blocked for h in (r.flow.src_host, r.flow.dst_host)}

    box_x: dict[str, float] = {}
    row_y: dict[tuple[str, str], float] = {}
    for i, host in enumerate(hosts):
        x = MARGIN + i * (box_w + gap)
        box_x[host.name] = x
        if any(k == "sg" for k, _, _ in rows[host.name]):
            topo.rects.append(Rect(x - 8, TOP - 8, box_w + 16, box_h + 16, "sgframe",
                                   f"{host.name} is behind a security group"))
        topo.rects.append(Rect(x, TOP, box_w, box_h, "host failing" if host.name in failing else "host", host.name))
        topo.labels.append(Label(x + 10, TOP + 19, host.name, "hostname", title=host.name))
        y = TOP + HEADER_H
        for kind, ls, title in lines[host.name]:
            row_y.setdefault((host.name, kind.split(":")[0]), y)
            row_y.setdefault((host.name, kind), y)
            for k, line in enumerate(ls):
                topo.labels.append(Label(x + 12, y + 11 + k * LINE_H, line, f"row row-{kind.split(':')[0]}",
                                         title=title))
            y += len(ls) * LINE_H + ROW_GAP

    # peers outside the snapshot (named by fdb entries or the journal)
    peer_x = MARGIN + len(hosts) * (box_w + gap)
    peers = sorted(node for node in graph.g if node[0] == "peer")
    shown_as: dict[str, str] = {}
    for j, node in enumerate(peers):
        px = peer_x + j * (PEER_W + 30)
        address = graph.g.nodes[node].get("address") or node[1]
        shown_as[f"peer:{node[1]}"] = f"peer {address}"
        topo.rects.append(Rect(px, TOP, PEER_W, 46, "peer", f"peer VTEP {address}: not in the bundles"))
        topo.labels.append(Label(px + 8, TOP + 18, f"peer {address}", "hostname peername"))
        topo.labels.append(Label(px + 8, TOP + 36, "(not in the bundles)", "row"))
        box_x[f"peer:{node[1]}"] = px
    width = peer_x - gap + MARGIN + (len(peers) * (PEER_W + 30) + gap - 30 if peers else 0)

    # segments as bars, NICs dropping onto them
    seg_members: dict[str, list[tuple[str, str, str]]] = {}
    for host in hosts:
        for _, iface in graph.g.out_edges(("host", host.name)):
            if iface[0] != "iface":
                continue
            for _, seg, d in graph.g.out_edges(iface, data=True):
                if d.get("kind") == "attached" and (host.name, f"nic:{iface[2]}") in row_y:
                    seg_members.setdefault(seg[1], []).append((host.name, iface[2], d["address"]))
    nic_x: dict[tuple[str, str], float] = {}
    for host in hosts:
        nics = [k.split(":", 1)[1] for k, _, _ in rows[host.name] if k.startswith("nic:")]
        for k, nic in enumerate(nics):
            step = (box_w - 60) / max(1, len(nics) - 1) if len(nics) > 1 else 0
            nic_x[(host.name, nic)] = box_x[host.name] + 30 + k * step
    vtep_nics = {(h.name, graph.g.nodes[("vtep", h.name)].get("iface")) for h in hosts if ("vtep", h.name) in graph.g}
    bars_top = bottom + 46
    for j, seg in enumerate(sorted(seg_members)):
        bar_y: float = bars_top + j * 50
        members = sorted(seg_members[seg])
        xs = [nic_x[(h, nic)] for h, nic, _ in members]
        x1, x2 = min(xs) - 40, max(xs) + 40
        topo.rects.append(Rect(x1, bar_y, x2 - x1, 8, "network", f"L3 segment {seg}"))
        topo.labels.append(Label(x1, bar_y + 24, seg, "netlabel"))
        for h, nic, addr in members:
            cx = nic_x[(h, nic)]
            red = h in failing and (h, nic) in vtep_nics
            topo.segments.append(Segment(cx, bottom, cx, bar_y, "drop failing" if red else "drop"))
            topo.rects.append(Rect(cx - 4, bar_y - 2, 8, 12, "junction failing" if red else "junction",
                                   f"{h} {nic} {addr}"))
            topo.labels.append(Label(cx + 6, bar_y - 6, f"{nic} {addr}", "niclabel"))
    height = bars_top + max(1, len(seg_members)) * 50 + 10

    # one arc per direction between two hosts (and from each peer), coloured by its worst flow
    by_pair: dict[tuple[str, str], list[FlowResult]] = {}
    for r in graph.flows():
        src, dst = r.flow.src_host, r.flow.dst_host
        if r.flow.kind == "overlay-in":
            src, dst = f"peer:{r.flow.dst_host}", r.flow.src_host
        by_pair.setdefault((src, dst), []).append(r)
    pairs = sorted(by_pair, key=lambda p: (p[0] in shown_as, p))
    if len(hosts) > MAX_ARC_HOSTS:
        pairs = [p for p in pairs if _state(by_pair[p]) != "reachable"]
    for k, (src, dst) in enumerate(pairs):
        if src not in box_x or dst not in box_x:
            continue
        results = by_pair[(src, dst)]
        state = _state(results)
        src_w = box_w if src in rows else PEER_W
        if box_x[src] < box_x[dst]:  # left to right: the outer arc
            xa, xb, lift = box_x[src] + src_w * 0.40, box_x[dst] + box_w * 0.60, 74.0
        else:  # right to left: the inner arc, its ends apart from the outer one's
            xa, xb, lift = box_x[src] + src_w * 0.30, box_x[dst] + box_w * 0.70, 40.0
        lift += (k // 2 % 3) * 14 + min(30.0, abs(xb - xa) / 20)
        kinds = ", ".join(f"{r.flow.kind} {VERDICT_STATE[r.verdict]}" for r in results)
        src_name = shown_as.get(src, src)
        summary = f"{src_name} → {dst}: {kinds}"
        topo.arcs.append((src_name, dst, state, kinds))
        topo.curves.append(Curve(f"M {xa:.1f} {TOP} C {xa:.1f} {TOP - lift:.1f} {xb:.1f} {TOP - lift:.1f} {xb:.1f} "
                                 f"{TOP}", f"arc {state}", summary))
        topo.arrows.append(f"{xb - 6:.1f},{TOP - 10} {xb + 6:.1f},{TOP - 10} {xb:.1f},{TOP}|arrow {state}")
        topo.labels.append(Label((xa + xb) / 2, TOP - lift * 0.75 - 4, f"{src_name} → {dst}: {state}",
                                 f"arclabel {state}", "middle", summary))

    # numbered markers on the row each error or warning is about
    per_row: dict[tuple[str, str], int] = {}
    for num, f in enumerate(findings, start=1):
        if f.severity is Severity.INFO:
            continue
        cause = CAUSES.get(f.cause)
        row = cause.row if cause is not None else ""
        for host_name in f.hosts:
            if host_name not in rows:
                continue
            where = row if (host_name, row) in row_y else "header"
            my = row_y.get((host_name, row), TOP + 6.0)
            slot = per_row.get((host_name, where), 0)
            per_row[(host_name, where)] = slot + 1
            cls = "marker error" if f.severity is Severity.ERROR else "marker warning"
            title = f"{num}. {f.rule} {f.title}"
            topo.markers.append(Marker(box_x[host_name] + box_w - 14 - slot * 22, my + 7, num, f"#{f.anchor}", title,
                                       cls))
            if not any(note.number == num for note in topo.notes):
                topo.notes.append(MarkerNote(num, f"#{f.anchor}", ", ".join(h for h in f.hosts if h in rows), where,
                                             f"{f.rule} {f.title}", f.severity.value))

    topo.width = max(width, CANVAS_W if len(hosts) <= 4 else width)
    topo.height = height
    blocked = [a for a in topo.arcs if a[2] == "blocked"]
    desc = f"{len(hosts)} hosts, {len(seg_members)} networks, {len(topo.arcs)} host-to-host directions"
    if blocked:
        desc += "; blocked: " + ", ".join(f"{a} → {b}" for a, b, _, _ in blocked)
    topo.description = desc
    return topo
