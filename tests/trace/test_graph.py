"""The reachability graph: hosts, interfaces, shared segments, flannel leases and the entries that
point at peers, and security groups."""

from __future__ import annotations

from pathlib import Path

from netsnap.secgroups import attach
from netsnap.trace.engine import TraceEngine
from netsnap.trace.graph import build_graph, shared_segments
from tests.trace.builders import overlay

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "secgroups"


def test_nodes_and_segments() -> None:
    g = build_graph(overlay())
    assert g.nodes[("host", "master")]["type"] == "host"
    assert g.nodes[("iface", "node1", "flannel.1")]["kind"] == "vxlan"
    assert shared_segments(g, "master", "node1") == ["192.168.0.0/24"]
    assert ("segment", "10.244.0.0/24") in g  # cni0's network, master only
    assert shared_segments(g, "master", "master") == ["10.244.0.0/24", "192.168.0.0/24"]


def test_overlay_edges_point_at_peers() -> None:
    g = build_graph(overlay())
    lease = g.nodes[("lease", "node1")]
    assert (lease["subnet"], lease["vtep"], lease["port"], lease["vni"]) == ("10.244.1.0/24", "192.168.0.11", 8472, 1)
    kinds = {d["kind"]: (v, d) for _, v, d in g.out_edges(("host", "master"), data=True)}
    assert kinds["route"][0] == ("lease", "node1") and kinds["route"][1]["src"] == "routes/ip-route:4"
    assert kinds["neigh"][0] == ("lease", "node1")
    assert kinds["fdb"][0] == ("host", "node1") and kinds["fdb"][1]["mac_owner"] == "node1"


def test_fdb_to_an_unknown_vtep_and_security_groups() -> None:
    snap = overlay(master_vtep="172.16.0.4", extra_master_links=["eth0 172.16.0.9/24"])
    groups = attach(snap, f"node1={FIX / 'aws-describe.json'}")
    g = TraceEngine(snap, groups).graph
    node_fdb = [v for _, v, d in g.out_edges(("host", "node1"), data=True) if d["kind"] == "fdb"]
    assert node_fdb == [("vtep", "172.16.0.4")]  # nobody owns the address the node sends VXLAN to
    assert (("host", "node1"), ("sg", "sg-0a1b2c3d")) in g.edges()
