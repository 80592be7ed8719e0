"""Facts a bundle implies but does not hold, filled in once per snapshot and stated as assumptions.

When `ip addr` was not collected (or not understood), a host's addresses are read from what the kernel
derived from them: its connected routes (`10.10.0.0/24 dev eth1 proto kernel scope link src 10.10.0.11`)
and its local table (`local 10.244.0.0 dev flannel.1 table local`), and from flanneld's own journal line
("Using interface with name eth1 and address 10.10.0.11"). Every address so inferred quotes the line it
came from, and the host carries one assumption per interface. Nothing is inferred where the bundle
holds the fact.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface

from netsnap.combine.overlay import USING_NAME
from netsnap.model import Host, IfAddress, Interface, Provenance, Snapshot
from netsnap.parsers.ipv4 import address as logged_address


def _add(ifaces: dict[str, Interface], name: str, addr: IPv4Interface, src: Provenance, raw: str,
         inferred: dict[str, list[str]]) -> None:
    iface = ifaces.get(name)
    if iface is None:
        iface = Interface(name=name, flags=["UP"], src=src, raw=f"{name} (inferred from {src.file})")
    if any(isinstance(a.address, IPv4Interface) and a.address.ip == addr.ip for a in iface.addresses):
        ifaces[name] = iface
        return
    new = IfAddress(address=addr, src=src, raw=raw)
    ifaces[name] = iface.model_copy(update={"addresses": [*iface.addresses, new]})
    inferred.setdefault(name, []).append(f"{addr} ({src.file}:{src.line})")


def infer_addresses(host: Host) -> Host:
    """`host` with the addresses its routes and journal imply, when `ip addr` is not there (see module doc)."""
    if host.has("ip_addr"):
        return host
    ifaces = dict(host.interfaces)
    inferred: dict[str, list[str]] = {}
    for r in host.routes:
        if r.dev is None or r.dst.version != 4:
            continue
        if r.table == "main" and r.proto == "kernel" and r.scope == "link" and isinstance(r.prefsrc, IPv4Address):
            _add(ifaces, r.dev, IPv4Interface(f"{r.prefsrc}/{r.dst.prefixlen}"), r.src, r.raw, inferred)
    for r in host.routes:
        if r.table == "local" and r.type == "local" and r.dev and r.dev != "lo" and r.dst.prefixlen == 32 \
                and isinstance(r.dst.network_address, IPv4Address):
            ip = r.dst.network_address
            if not any(isinstance(a.address, IPv4Interface) and a.address.ip == ip
                       for i in ifaces.values() for a in i.addresses):
                _add(ifaces, r.dev, IPv4Interface(f"{ip}/32"), r.src, r.raw, inferred)
    for ev in host.flannel.events:
        m = USING_NAME.search(ev.message) if "Using interface with name" in ev.message else None
        logged = logged_address(m.group(2)) if m is not None else None
        if m is None or logged is None:
            continue
        if any(isinstance(a.address, IPv4Interface) and a.address.ip == logged for i in ifaces.values()
               for a in i.addresses):
            continue
        net = next((r.dst for r in host.routes if r.dev == m.group(1) and r.dst.version == 4
                    and not r.is_default and logged in r.dst), None)
        plen = net.prefixlen if net is not None else 32
        _add(ifaces, m.group(1), IPv4Interface(f"{logged}/{plen}"), ev.src, ev.raw, inferred)
    if not inferred:
        return host
    notes = [f"{host.name}: ip addr not collected; {name} has {', '.join(addrs)}, read from its routes and "
             f"flanneld's journal" for name, addrs in sorted(inferred.items())]
    return host.model_copy(update={"interfaces": ifaces, "assumptions": [*host.assumptions, *notes]})


def complete(snapshot: Snapshot) -> Snapshot:
    """The snapshot with every host's implied facts filled in (the same object when nothing was missing)."""
    hosts = [infer_addresses(h) for h in snapshot.hosts]
    if all(a is b for a, b in zip(hosts, snapshot.hosts, strict=True)):
        return snapshot
    return snapshot.model_copy(update={"hosts": hosts})
