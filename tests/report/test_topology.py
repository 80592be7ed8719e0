"""The server-side topology layout: networks, tunnels, the red failing path and blocking markers."""

from __future__ import annotations

from netsnap.engine.run import sort_findings
from netsnap.model import Snapshot
from netsnap.report.topology import MAX_TUNNEL_HOSTS, build_topology, failing_pair
from tests.report import builders


def _topo(sg: bool = True):  # type: ignore[no-untyped-def]
    res = builders.result()
    traces = list(res.traces)
    return build_topology(builders.snapshot(), sort_findings(res.findings), traces,
                          {"master": "sg-master.json"} if sg else None)


def test_failing_pair_from_trace_destination_pod_subnet() -> None:
    res = builders.result()
    traces = list(res.traces)
    assert failing_pair(builders.snapshot(), traces, []) == ("master", "node1")


def test_failing_pair_from_finding_path_without_traces() -> None:
    assert failing_pair(builders.snapshot(), [], builders.result().findings) == ("master", "node1")
    assert failing_pair(builders.snapshot(), [], []) is None


def test_networks_nics_and_red_path() -> None:
    topo = _topo()
    nets = sorted(r.title for r in topo.rects if r.cls == "network")
    assert nets == ["172.16.0.0/24", "192.168.0.0/24"]
    drops = [s for s in topo.segments if s.cls.startswith("drop")]
    assert len(drops) == 3  # master eth0, master eth1, node1 eth0
    assert sum(1 for s in drops if "failing" in s.cls) == 2  # the two VTEP NICs: master eth0, node1 eth0
    assert [c.cls for c in topo.curves] == ["tunnel failing"]
    assert any(lb.text == "vxlan 172.16.0.4 ↔ 192.168.0.16 udp 8472" for lb in topo.labels)
    assert {r.cls for r in topo.rects if r.title in ("master", "node1")} == {"host failing"}


def test_markers_link_findings_at_their_rows() -> None:
    topo = _topo()
    markers = {m.href: m for m in topo.markers}
    assert set(markers) == {"#NS301-master-eth0", "#NS201-master-INPUT", "#NS302-master-sg"}  # info gets none
    assert [markers[h].number for h in ("#NS301-master-eth0", "#NS201-master-INPUT", "#NS302-master-sg")] == [1, 2, 3]
    ys = {h: markers[h].y for h in markers}
    assert ys["#NS301-master-eth0"] < ys["#NS201-master-INPUT"] < ys["#NS302-master-sg"]  # vtep, firewall, sg rows


def test_security_group_frame_only_when_given() -> None:
    assert any(r.cls == "sgframe" for r in _topo(sg=True).rects)
    topo = _topo(sg=False)
    assert not any(r.cls == "sgframe" for r in topo.rects)
    assert "#NS302-master-sg" in {m.href for m in topo.markers}  # still marked, on the host header


def test_layout_is_deterministic() -> None:
    assert _topo() == _topo()


def test_large_clusters_draw_only_the_failing_tunnel() -> None:
    hosts = [builders.master(f"m{i}") for i in range(MAX_TUNNEL_HOSTS + 2)] + [builders.node1()]
    snap = Snapshot(hosts=hosts)
    res = builders.result()
    traces = list(res.traces)
    topo = build_topology(snap, [], [t.model_copy(update={"src_host": "m0"}) for t in traces])
    assert len(topo.curves) == 1 and topo.curves[0].cls == "tunnel failing"
    small = build_topology(Snapshot(hosts=hosts[:3]), [], [])
    assert len(small.curves) == 3  # full mesh of three VTEPs


def test_an_unknown_verdict_is_not_drawn_as_failing() -> None:
    res = builders.result()
    unknown = [t.model_copy(update={"verdict": "unknown"}) for t in res.traces]
    assert failing_pair(builders.snapshot(), unknown, []) is None
    topo = build_topology(builders.snapshot(), [], unknown)
    assert not any("failing" in c.cls for c in topo.curves)
    assert not any("failing" in s.cls for s in topo.segments)
