"""The topology drawn from the reachability graph: the facts findings point at are all there in full (the
VXLAN device's local address, every default route), no label is longer than its box, one arc per
direction coloured by the required flows' answers, markers on the row of each finding."""

from __future__ import annotations

from functools import cache

from netsnap.cli.common import read_snapshot
from netsnap.engine.findings import AnalysisResult
from netsnap.engine.run import run_rules
from netsnap.graph.reachability import ReachabilityGraph
from netsnap.model import Snapshot
from netsnap.report.topology import CHAR_W, Topology, build_topology, wrap
from netsnap.secgroups import attach

INCIDENT_A = ["fixtures/incident-a/master", "fixtures/incident-a/node1"]


@cache
def _incident_a() -> tuple[Snapshot, ReachabilityGraph, AnalysisResult]:
    snap = read_snapshot(INCIDENT_A)
    groups = attach(snap, "master=fixtures/incident-a/sg-master.json", None)
    graph = ReachabilityGraph(snap, groups)
    return snap, graph, run_rules(snap, security_groups=groups, graph=graph)


def _topo() -> Topology:
    _, graph, result = _incident_a()
    return build_topology(graph, result.findings, {"master": "sg-master.json"})


def _box_width(topo: Topology, host: str) -> float:
    return next(r.w for r in topo.rects if r.title == host and r.cls.startswith("host"))


def test_every_fact_a_finding_points_at_is_drawn_whole() -> None:
    topo = _topo()
    text = "\n".join(lb.text.strip() for lb in topo.labels)
    assert "local 172.16.0.4 on eth0" in text  # NS301's fact: the VXLAN device's local address
    assert "local 192.168.0.16 on eth0" in text
    assert "default via 172.16.0.1 dev eth0 metric 100" in text
    assert "SG sg-master.json" in text
    rows = [lb for lb in topo.labels if lb.cls.startswith("row")]
    limit = int((_box_width(topo, "master") - 40) / CHAR_W)
    assert rows and all(len(lb.text) <= limit for lb in rows), "a label runs out of its box"
    assert not any("…" in lb.text for lb in topo.labels), "labels are wrapped, never clipped"


def test_second_default_route_is_its_own_row() -> None:
    snap = read_snapshot(["fixtures/incident-b/host"])
    graph = ReachabilityGraph(snap)
    topo = build_topology(graph, run_rules(snap, graph=graph).findings)
    defaults = [lb.text for lb in topo.labels if lb.text.startswith("default via")]
    assert defaults == ["default via 10.175.100.1 dev eth2 metric 0", "default via 9.91.17.59 dev eth0 metric 0"]


def test_segments_and_nics_come_from_the_graph() -> None:
    topo = _topo()
    nets = sorted(r.title for r in topo.rects if r.cls == "network")
    assert nets == ["L3 segment 172.16.0.0/24", "L3 segment 192.168.0.0/24"]
    drops = [s for s in topo.segments if s.cls.startswith("drop")]
    assert len(drops) == 3  # master eth0, master eth1, node1 eth0
    assert sum(1 for s in drops if "failing" in s.cls) == 2  # the VTEP NICs of the blocked pair


def test_one_arc_per_direction_coloured_by_the_worst_flow() -> None:
    topo = _topo()
    assert [(a, b, state) for a, b, state, _ in topo.arcs] == [("master", "node1", "blocked"),
                                                                ("node1", "master", "blocked")]
    assert [c.cls for c in topo.curves] == ["arc blocked", "arc blocked"]
    assert len(topo.arrows) == 2
    ends = [c.d.split()[-2] for c in topo.curves]
    assert ends[0] != ends[1], "the two directions end at different points"


def test_healthy_cluster_draws_reachable_arcs_and_no_markers() -> None:
    snap = read_snapshot(["fixtures/healthy/master", "fixtures/healthy/node1"])
    graph = ReachabilityGraph(snap)
    topo = build_topology(graph, run_rules(snap, graph=graph).findings)
    assert {state for _, _, state, _ in topo.arcs} == {"reachable"}
    assert not topo.markers and not any("failing" in r.cls for r in topo.rects)


def test_markers_link_findings_on_their_rows() -> None:
    _, _, result = _incident_a()
    topo = _topo()
    anchors = {f"#{f.anchor}" for f in result.findings if f.severity.value != "info"}
    assert {m.href for m in topo.markers} == anchors
    master = {m.href.split("-")[0]: m.y for m in topo.markers if m.x < _box_width(topo, "master") + 40}
    assert master["#NS301"] < master["#NS201"] < master["#NS203"]  # vtep row, firewall row, sg row
    numbers = [n.number for n in topo.notes]
    assert numbers == sorted(set(numbers)), "one legend line per marker number"


def test_wrap_breaks_at_spaces_and_splits_only_long_words() -> None:
    assert wrap("aaa bbb ccc", 7) == ["aaa bbb", "  ccc"]
    assert wrap("x" * 10, 4) == ["xxxx", "xxxx", "xx"]


def test_layout_is_deterministic() -> None:
    assert _topo() == _topo()
