"""The flows the cluster needs through a host's filter table: the overlay's UDP port from and to each peer
VTEP (INPUT/OUTPUT), and pod network to pod network in both directions (FORWARD)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from netsnap.engine.chainwalk import Packet
from netsnap.engine.cluster import Cluster, Peer, owner_of
from netsnap.model import Host


@dataclass(frozen=True)
class Flow:
    chain: str
    packet: Packet
    label: str  # e.g. "UDP 8472 from node1 (192.168.0.16) to the VTEP 172.16.0.4"
    peer: str
    kind: str  # "overlay-in" | "overlay-out" | "pods-in" | "pods-out"


def _pod_ip(net: IPv4Network) -> IPv4Address:
    return net.network_address + 2 if net.num_addresses > 4 else net.network_address


def _other_pod_net(network: IPv4Network, own: IPv4Network | None) -> IPv4Network | None:
    """A lease-sized block of `network` that is not `own` (for a peer whose lease is unknown)."""
    plen = own.prefixlen if own else min(network.prefixlen + 8, 30)
    for sub in network.subnets(new_prefix=max(plen, network.prefixlen)):
        if own is None or sub != own:
            return sub
    return None


def _representative_peer(host: Host, cluster: Cluster) -> Peer | None:
    f = cluster.of(host)
    if f.vtep is None:
        return None
    iface = owner_of(host, f.vtep)
    if iface is None:
        return None
    for a in iface.addresses:
        if a.address.ip == f.vtep and a.address.network.num_addresses > 2:
            net = a.address.network
            for cand in (net.network_address + 1, net.network_address + 2):
                if cand != f.vtep and isinstance(cand, IPv4Address):
                    return Peer(f"a peer on {net}", cand, None, "assumed")
    return None


def needed_flows(host: Host, cluster: Cluster) -> list[Flow]:
    f = cluster.of(host)
    out: list[Flow] = []
    peers = [p for p in cluster.peers(host) if p.vtep is not None]
    if not peers:
        rep = _representative_peer(host, cluster)
        peers = [rep] if rep else []
    port = f.port
    if f.vtep is not None and port is not None and f.backend in ("vxlan", "udp"):
        for p in peers:
            assert p.vtep is not None
            out.append(Flow("INPUT", Packet(p.vtep, f.vtep, "udp", port, in_iface=f.vtep_iface),
                            f"UDP {port} from {p.name} ({p.vtep}) to this VTEP {f.vtep}", p.name, "overlay-in"))
            out.append(Flow("OUTPUT", Packet(f.vtep, p.vtep, "udp", port, out_iface=f.vtep_iface),
                            f"UDP {port} from this VTEP {f.vtep} to {p.name} ({p.vtep})", p.name, "overlay-out"))
    if f.lease is not None and f.network is not None:
        dev = f.device.name if f.device else None
        bridge = f.bridge.name if f.bridge else None
        local_pod = _pod_ip(f.lease)
        pod_peers: list[tuple[str, IPv4Network]] = [(p.name, p.lease) for p in cluster.peers(host) if p.lease]
        if not pod_peers:
            other = _other_pod_net(f.network, f.lease)
            if other is not None:
                pod_peers = [(f"pods in {f.network}", other)]
        for name, lease in pod_peers[:4]:
            remote_pod = _pod_ip(lease)
            out.append(Flow("FORWARD", Packet(remote_pod, local_pod, "icmp", None, in_iface=dev, out_iface=bridge),
                            f"pods {lease} ({name}) to local pods {f.lease}", name, "pods-in"))
            out.append(Flow("FORWARD", Packet(local_pod, remote_pod, "icmp", None, in_iface=bridge, out_iface=dev),
                            f"local pods {f.lease} to pods {lease} ({name})", name, "pods-out"))
    return out
