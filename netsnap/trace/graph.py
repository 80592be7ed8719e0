"""The reachability graph of a Snapshot (networkx MultiDiGraph).

Nodes (the key's first element is the node type):
  ("host", H)                      a host
  ("iface", H, I)                  an interface (kind, mtu, state, mac)
  ("segment", "192.168.0.0/24")    an L3 segment: a connected network shared by the hosts with an address in it
  ("lease", H)                     a host's flannel lease (subnet, VTEP address, VXLAN port and VNI, device)
  ("sg", GROUP)                    a security group attached to hosts
Edges carry `kind`: has (host->iface), attached (iface<->segment, with the address), lease
(host->lease), route / neigh / fdb (host -> the peer lease or host they point at, with provenance),
secgroup (host->sg).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

import networkx as nx

from netsnap.model.host import Host, Snapshot
from netsnap.secgroups.model import SecurityGroups

DEFAULT_VXLAN_PORT = 8472


def _lease(host: Host) -> dict[str, Any] | None:
    """The flannel lease of a host: subnet.env first, then the flannel device's address."""
    vx = next((i for i in host.interfaces.values() if i.vxlan is not None and i.name.startswith("flannel")), None)
    if vx is None:
        vx = next((i for i in host.interfaces.values() if i.vxlan is not None), None)
    subnet: IPv4Network | None = None
    source = ""
    env = host.flannel.subnet_env
    if env is not None and env.subnet is not None:
        subnet = env.subnet.network
        source = str(env.src)
    elif vx is not None:
        for a in vx.addresses:
            if isinstance(a.address, IPv4Interface):
                subnet = IPv4Network(f"{a.address.ip}/24", strict=False)
                source = str(a.src)
                break
    if subnet is None and vx is None:
        return None
    info = vx.vxlan if vx else None
    return {
        "subnet": str(subnet) if subnet else None,
        "device": vx.name if vx else None,
        "vtep": str(info.local) if info and info.local else None,
        "port": (info.dstport or DEFAULT_VXLAN_PORT) if info else None,
        "vni": info.vni if info else None,
        "mac": vx.mac if vx else None,
        "source": source,
    }


def build_graph(snapshot: Snapshot, security_groups: SecurityGroups | None = None) -> Any:
    """Build the graph (see the module docstring for its schema)."""
    g = nx.MultiDiGraph()
    owner: dict[IPv4Address, str] = {}
    mac_owner: dict[str, str] = {}
    lease_of: dict[str, IPv4Network] = {}
    for host in snapshot.hosts:
        g.add_node(("host", host.name), type="host", name=host.name)
        for iface in host.interfaces.values():
            node = ("iface", host.name, iface.name)
            g.add_node(node, type="iface", host=host.name, name=iface.name, kind=iface.kind, mtu=iface.mtu,
                       mac=iface.mac, up=iface.is_up)
            g.add_edge(("host", host.name), node, kind="has")
            if iface.mac and iface.vxlan is not None:
                mac_owner[iface.mac.lower()] = host.name
            for a in iface.addresses:
                if not isinstance(a.address, IPv4Interface):
                    continue
                owner.setdefault(a.address.ip, host.name)
                if a.address.network.prefixlen >= 32 or iface.name == "lo":
                    continue
                seg = ("segment", str(a.address.network))
                g.add_node(seg, type="segment", network=str(a.address.network))
                g.add_edge(node, seg, kind="attached", address=str(a.address.ip), src=str(a.src))
                g.add_edge(seg, node, kind="attached", address=str(a.address.ip), src=str(a.src))
        lease = _lease(host)
        if lease is not None:
            g.add_node(("lease", host.name), type="lease", host=host.name, **lease)
            g.add_edge(("host", host.name), ("lease", host.name), kind="lease")
            if lease["subnet"]:
                lease_of[host.name] = IPv4Network(lease["subnet"])
        if security_groups is not None:
            for sg_set in security_groups.for_host(host.name) or []:
                for gid in sg_set.groups or [sg_set.file]:
                    g.add_node(("sg", gid), type="sg", provider=sg_set.provider, file=sg_set.file)
                    g.add_edge(("host", host.name), ("sg", gid), kind="secgroup")

    def lease_holder(ip: IPv4Address) -> str | None:
        for name, net in lease_of.items():
            if ip in net:
                return name
        return None

    for host in snapshot.hosts:
        vx_devs = {i.name for i in host.interfaces.values() if i.vxlan is not None or i.kind == "vxlan"}
        for route in host.routes:
            if route.dev not in vx_devs or route.dst.version != 4:
                continue
            peer = lease_holder(route.dst.network_address)
            if peer and peer != host.name:
                g.add_edge(("host", host.name), ("lease", peer), kind="route", dst=str(route.dst),
                           gateway=str(route.gateway) if route.gateway else None, src=str(route.src), text=route.raw)
        for n in host.neighbours:
            if n.dev not in vx_devs or not isinstance(n.address, IPv4Address):
                continue
            peer = lease_holder(n.address) or (mac_owner.get(n.lladdr.lower()) if n.lladdr else None)
            if peer and peer != host.name:
                g.add_edge(("host", host.name), ("lease", peer), kind="neigh", address=str(n.address),
                           lladdr=n.lladdr, src=str(n.src), text=n.raw)
        for f in host.fdb:
            if f.dev not in vx_devs or f.dst is None or not isinstance(f.dst, IPv4Address):
                continue
            peer = owner.get(f.dst)
            target = ("host", peer) if peer else ("vtep", str(f.dst))
            if peer == host.name:
                continue
            if not peer:
                g.add_node(target, type="vtep", address=str(f.dst))
            g.add_edge(("host", host.name), target, kind="fdb", mac=f.mac, dst=str(f.dst), src=str(f.src),
                       text=f.raw, mac_owner=mac_owner.get(f.mac.lower()))
    return g


def shared_segments(graph: Any, a: str, b: str) -> list[str]:
    """The L3 segments both hosts have an address in."""
    def segs(h: str) -> set[str]:
        out: set[str] = set()
        for _, iface in graph.out_edges(("host", h)):
            for _, seg, data in graph.out_edges(iface, data=True):
                if data.get("kind") == "attached":
                    out.add(seg[1])
        return out

    return sorted(segs(a) & segs(b))
