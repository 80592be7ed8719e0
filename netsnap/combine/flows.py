"""The flows the cluster needs, derived once per snapshot from the overlay facts.

For every ordered pair of overlay hosts (A, B) with what the flow needs known:

- `overlay`: A's VTEP to B's VTEP on B's real VXLAN/UDP port (the underlay carrying the overlay);
- `host-pods`: a socket on A to a pod address in B's lease (what the API server proxy does);
- `pods`: a pod behind A's bridge to a pod in B's lease (pod-to-pod across nodes).

A peer whose bundle is not in the snapshot (named by A's fdb or journal) adds `overlay-in`: a VXLAN
packet from its VTEP arriving on A's VTEP interface, carrying a pod packet from the peer's lease (or
another block of the pod network) to a pod of A — one way, since nothing about the peer is known.

Above `ALL_PAIRS_MAX` overlay hosts, each host is paired with the next `RING_PEERS` hosts in snapshot
order instead of all of them (the report says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from netsnap.combine.overlay import Cluster, OverlayFacts, Peer, owner_of

FlowKind = Literal["overlay", "host-pods", "pods", "overlay-in"]
ALL_PAIRS_MAX = 8
RING_PEERS = 2


@dataclass(frozen=True)
class RequiredFlow:
    """One flow the cluster needs. `src_ip` None lets routing pick the source (a host socket)."""

    id: str
    kind: FlowKind
    src_host: str
    dst_host: str
    src_ip: str | None
    dst_ip: str
    proto: Literal["icmp", "tcp", "udp"]
    port: int | None
    label: str
    arrive_on: str | None = None  # overlay-in: the interface of src_host the packet arrives on
    inner: tuple[str, str] | None = None  # overlay-in: the encapsulated pod packet (src, dst)


def pod_address(lease: IPv4Network) -> IPv4Address:
    """A representative pod address of a lease: the first after the bridge's (.1)."""
    return lease.network_address + 2 if lease.num_addresses > 4 else lease.network_address


def _pairs(cluster: Cluster) -> list[tuple[str, Peer]]:
    hosts = [h for h in cluster.snapshot.hosts if cluster.of(h).has_flannel]
    names = [h.name for h in hosts]
    out: list[tuple[str, Peer]] = []
    for i, host in enumerate(hosts):
        peers = cluster.peers(host)
        if len(hosts) > ALL_PAIRS_MAX:
            ring = {names[(i + k) % len(names)] for k in range(1, RING_PEERS + 1)}
            peers = [p for p in peers if p.host is None or p.host.name in ring]
        out.extend((host.name, p) for p in peers)
    return out


def _flows_to(src: OverlayFacts, peer: Peer) -> list[RequiredFlow]:
    a = src.host.name
    b = peer.host.name if peer.host is not None else peer.name
    out: list[RequiredFlow] = []
    pf = peer.facts
    port = pf.port if pf is not None else src.port
    if src.vtep is not None and peer.vtep is not None and port is not None and src.backend in ("vxlan", "udp"):
        # a VTEP that is no address of the host (a --public-ip behind NAT): the kernel picks the source
        local = str(src.vtep) if owner_of(src.host, src.vtep) is not None else None
        out.append(RequiredFlow(
            f"overlay:{a}->{b}", "overlay", a, b, local, str(peer.vtep), "udp", port,
            f"{a} VTEP {src.vtep} → {b} VTEP {peer.vtep} (udp {port})"))
    if peer.lease is not None:
        pod = pod_address(peer.lease)
        out.append(RequiredFlow(
            f"host-pods:{a}->{b}", "host-pods", a, b, None, str(pod), "icmp", None,
            f"{a} → {b} pods ({peer.lease})"))
        if src.lease is not None and src.bridge is not None:
            mine = pod_address(src.lease)
            out.append(RequiredFlow(
                f"pods:{a}->{b}", "pods", a, b, str(mine), str(pod), "icmp", None,
                f"{a} pods ({src.lease}) → {b} pods ({peer.lease})"))
    if (peer.host is None and peer.vtep is not None and src.vtep is not None and src.vtep_iface is not None
            and src.lease is not None and port is not None and src.backend == "vxlan"):
        remote = peer.lease or _other_block(src)
        if remote is not None:
            out.append(RequiredFlow(
                f"overlay-in:{b}->{a}", "overlay-in", a, b, str(peer.vtep), str(src.vtep), "udp", port,
                f"{b} VTEP {peer.vtep} → {a} pods ({src.lease}) over udp {port}", arrive_on=src.vtep_iface,
                inner=(str(pod_address(remote)), str(pod_address(src.lease)))))
    return out


def _other_block(src: OverlayFacts) -> IPv4Network | None:
    """A lease-sized block of the pod network that is not `src`'s lease (a peer whose lease is unknown)."""
    if src.network is None or src.lease is None:
        return None
    for sub in src.network.subnets(new_prefix=max(src.lease.prefixlen, src.network.prefixlen)):
        if sub != src.lease:
            return sub
    return None


def required_flows(cluster: Cluster) -> list[RequiredFlow]:
    """Every flow the snapshot's overlay needs, in snapshot order (see the module docstring)."""
    out: list[RequiredFlow] = []
    seen: set[str] = set()
    for name, peer in _pairs(cluster):
        for flow in _flows_to(cluster.facts[name], peer):
            if flow.id not in seen:
                seen.add(flow.id)
                out.append(flow)
    return out
