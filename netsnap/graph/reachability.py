"""The reachability graph of a snapshot (networkx MultiDiGraph): built once, read by the rules, the
report's topology and the diff.

Nodes (the key's first element is the node type):
  ("host", H)                      a host; `facts` holds its OverlayFacts
  ("iface", H, I)                  an interface (kind, mtu, state, mac)
  ("segment", "192.168.0.0/24")    an L3 segment: a connected network shared by the hosts with an address in it
  ("vtep", H)                      a host's VXLAN tunnel endpoint (address, port, vni, device, mac)
  ("pods", H)                      a host's pod network (its flannel lease)
  ("sg", GROUP)                    a security group attached to hosts
Structure edges carry `kind`: has (host->iface), attached (iface<->segment), vtep (host->vtep), lease
(host->pods), secgroup (host->sg). Every required flow (netsnap.combine.flows) is an edge of kind `flow`
from its source (host or pods node) to its destination (vtep or pods node) whose `result` is a
FlowResult: the trace as the kernel runs it, and every check on the path that stops it.

Blockers are found Batfish-style, by asking again with each found blocker let through (a bypass), so
several causes on one path (a REJECT, then a security group, ...) are all reported, in path order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

import networkx as nx

from netsnap.combine.completion import complete
from netsnap.combine.flows import RequiredFlow, required_flows
from netsnap.combine.overlay import Cluster, OverlayFacts
from netsnap.model import Host, Snapshot
from netsnap.secgroups.model import SecurityGroups
from netsnap.trace import routing
from netsnap.trace.engine import TraceEngine, TraceError
from netsnap.trace.packet import Packet
from netsnap.trace.result import Doubt, Step, TraceResult
from netsnap.trace.run import Run

MAX_BYPASSES = 6
#: blockers that say the packet could not be forwarded: no route, a leak to the default route, no ARP answer
FORWARDING_KINDS = ("no-route", "peer-route", "neighbour-unreachable")
#: checks a trace can be re-asked with let through (the path continues past them)
BYPASSABLE = ("|nf|", "|sg|", "|rp_filter|", "|ip_forward")


@dataclass
class FlowResult:
    """A required flow's answer: the trace as the kernel would run it, every blocking check on its path
    (in path order; the first is the trace's own), and every undecidable point on the path (also those
    beyond a blocker, found with it bypassed)."""

    flow: RequiredFlow
    trace: TraceResult
    blockers: list[Step] = field(default_factory=list)
    doubts: list[Doubt] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return self.trace.verdict

    @property
    def blocked(self) -> bool:
        return self.trace.verdict == "unreachable"


def _leaves(t: TraceResult) -> Iterator[TraceResult]:
    """Every branch of a trace, with its reply."""
    for leaf in t.branches or [t]:
        yield leaf
        if leaf.reply is not None:
            yield from _leaves(leaf.reply)


def _deciders(t: TraceResult) -> list[Step]:
    """The steps that stopped the failing branches (and replies) of `t`, in order, one per check."""
    out: dict[str, Step] = {}
    for leaf in _leaves(t):
        if leaf.verdict != "unreachable" or leaf.disposition == "delivered":
            continue
        step = leaf.deciding_step()
        if step is not None and step.action == "deny":
            out.setdefault(step.check or step.detail, step)
    return list(out.values())


def _doubts(t: TraceResult) -> list[Doubt]:
    return list({d.reason: d for leaf in _leaves(t) for d in leaf.doubts}.values())


class ReachabilityGraph:
    """The snapshot's hosts, interfaces, segments, VTEPs, pod networks and security groups, and every
    required flow with its answer. Rules read causes from here (`blocked`, `doubtful`, `flows`)."""

    def __init__(self, snapshot: Snapshot, security_groups: SecurityGroups | None = None,
                 cluster: Cluster | None = None) -> None:
        snapshot = complete(snapshot)
        self.snapshot = snapshot
        self.security_groups = security_groups
        self.cluster = cluster if cluster is not None else Cluster(snapshot)
        self.engine = TraceEngine(snapshot, security_groups, self.cluster)
        self.g: Any = nx.MultiDiGraph()
        self._build_structure()
        self.results: list[FlowResult] = [self._answer(f) for f in required_flows(self.cluster)]
        for r in self.results:
            f = r.flow
            src = ("pods", f.src_host) if f.kind == "pods" else ("host", f.src_host)
            dst = ("vtep", f.dst_host) if f.kind == "overlay" else ("pods", f.dst_host)
            if f.kind == "overlay-in":  # from a peer outside the snapshot to this host's pods
                src, dst = ("peer", f.dst_host), ("pods", f.src_host)
                self.g.add_node(src, type="peer", address=f.src_ip)
            self.g.add_edge(src, dst, key=f.id, kind="flow", result=r)

    # ------------------------------------------------------------------ what rules ask

    def facts(self, host: Host) -> OverlayFacts:
        """The host's overlay facts (the one derivation, netsnap.combine.overlay)."""
        return self.cluster.of(host)

    def flows(self, kind: str | None = None) -> list[FlowResult]:
        """Every required flow's answer, in snapshot order (optionally of one kind)."""
        return [r for r in self.results if kind is None or r.flow.kind == kind]

    def blocked(self, check: str = "") -> list[tuple[FlowResult, Step]]:
        """(flow, blocking step) for every blocker whose check contains `check` (e.g. `|nf|`, `|sg|`)."""
        return [(r, s) for r in self.results for s in r.blockers if check in s.check]

    def blocked_toward(self, host: str, net: IPv4Network | None = None, *,
                       kinds: tuple[str, ...] = FORWARDING_KINDS) -> list[str]:
        """The checks of blockers on `host` of the given kinds (the packet could not be forwarded there) whose
        packet goes into `net` (or, with `net` None, to no network `host` is connected to: via a gateway)."""
        connected = [c.network for c in self.engine.hosts[host].connected] if host in self.engine.hosts else []
        out: list[str] = []
        for _, s in self.blocked(f"{host}|"):
            if s.check.split("|")[1] not in kinds or s.packet is None:
                continue
            try:
                dst = IPv4Address(s.packet.dst)
            except ValueError:
                continue
            if (dst in net) if net is not None else not any(dst in c for c in connected):
                out.append(s.check)
        return list(dict.fromkeys(out))

    def doubtful(self, check: str = "") -> list[tuple[FlowResult, Doubt]]:
        """(flow, doubt) for every undecided point whose check contains `check`."""
        return [(r, d) for r in self.results for d in r.doubts if check in d.check]

    def path(self, result: FlowResult) -> str:
        """The traffic a flow carries, as findings name it (`master → node1 pods (172.18.5.0/24)`): every cause
        on the same host pair names the same path."""
        f = result.flow
        src = self.snapshot.host(f.src_host)
        if src is None:
            return f.label
        peers = [p for p in self.cluster.peers(src) if p.name == f.dst_host]
        return self.cluster.path(src, peers) or f.label

    def route(self, host: Host, dst: IPv4Address, src: IPv4Address | None = None,
              iif: str | None = None) -> routing.RouteDecision:
        """The kernel's route for a packet (the one route lookup: policy rules, every table)."""
        pkt = Packet(src=src, dst=dst)
        return routing.lookup(Run([]), self.engine.hosts[host.name], pkt, iif, record=False)

    # ------------------------------------------------------------------ building

    def _answer(self, flow: RequiredFlow) -> FlowResult:
        bypass: set[str] = set()
        first: TraceResult | None = None
        blockers: list[Step] = []
        doubts: dict[str, Doubt] = {}
        for _ in range(MAX_BYPASSES):
            try:
                t = self.engine.trace(flow.src_host, flow.dst_ip, flow.proto, flow.port, src_ip=flow.src_ip,
                                      bypass=frozenset(bypass), arrive_on=flow.arrive_on, inner=flow.inner,
                                      one_way=flow.kind == "overlay-in")
            except TraceError as exc:  # the facts do not make a traceable flow: undecided, and why
                t = TraceResult(src_host=flow.src_host, src_ip=flow.src_ip, dst_ip=flow.dst_ip, proto=flow.proto,
                                port=flow.port, verdict="unknown", disposition="insufficient-info",
                                reason=f"not traceable: {exc}")
            first = first or t
            for d in _doubts(t):  # later runs see the doubts further along the path
                doubts.setdefault(d.reason, d)
            found = [s for s in _deciders(t) if s.check not in bypass]
            blockers.extend(found)
            more = [s.check for s in found if any(k in s.check for k in BYPASSABLE)]
            if not more or len(more) < len(found):
                break
            bypass.update(more)
        assert first is not None
        return FlowResult(flow, first, blockers, list(doubts.values()))

    def _build_structure(self) -> None:
        g = self.g
        for host in self.snapshot.hosts:
            facts = self.cluster.of(host)
            g.add_node(("host", host.name), type="host", name=host.name, facts=facts)
            for iface in host.interfaces.values():
                node = ("iface", host.name, iface.name)
                g.add_node(node, type="iface", host=host.name, name=iface.name, kind=iface.kind, mtu=iface.mtu,
                           mac=iface.mac, up=iface.is_up)
                g.add_edge(("host", host.name), node, kind="has")
                for a in iface.addresses:
                    if not isinstance(a.address, IPv4Interface) or a.address.network.prefixlen >= 32:
                        continue
                    if iface.name == "lo":
                        continue
                    seg = ("segment", str(a.address.network))
                    g.add_node(seg, type="segment", network=str(a.address.network))
                    g.add_edge(node, seg, kind="attached", address=str(a.address.ip))
                    g.add_edge(seg, node, kind="attached", address=str(a.address.ip))
            if facts.vtep is not None or facts.device is not None:
                dev = facts.device
                g.add_node(("vtep", host.name), type="vtep", host=host.name,
                           address=str(facts.vtep) if facts.vtep else None, port=facts.port, vni=facts.vni,
                           device=dev.name if dev else None, mac=dev.mac if dev else None, iface=facts.vtep_iface)
                g.add_edge(("host", host.name), ("vtep", host.name), kind="vtep")
            if facts.lease is not None:
                g.add_node(("pods", host.name), type="pods", host=host.name, lease=str(facts.lease),
                           bridge=facts.bridge.name if facts.bridge else None)
                g.add_edge(("host", host.name), ("pods", host.name), kind="lease")
            if self.security_groups is not None:
                for sg_set in self.security_groups.for_host(host.name) or []:
                    for gid in sg_set.groups or [sg_set.file]:
                        g.add_node(("sg", gid), type="sg", provider=sg_set.provider, file=sg_set.file)
                        g.add_edge(("host", host.name), ("sg", gid), kind="secgroup")

    def shared_segments(self, a: str, b: str) -> list[str]:
        """The L3 segments both hosts have an address in."""
        def segs(h: str) -> set[str]:
            out: set[str] = set()
            for _, iface in self.g.out_edges(("host", h)):
                for _, seg, data in self.g.out_edges(iface, data=True):
                    if data.get("kind") == "attached":
                        out.add(seg[1])
            return out

        return sorted(segs(a) & segs(b))
