"""Tiny Host builders for diff unit tests (end-to-end fixture tests use real bundles)."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_address, ip_interface, ip_network

from netsnap.model import (
    AddrMatch,
    BundleInfo,
    Chain,
    Host,
    Identity,
    IfAddress,
    Interface,
    IptRule,
    Provenance,
    Route,
    Ruleset,
    Sysctl,
    Table,
    Target,
)


def src(file: str, line: int = 1) -> Provenance:
    return Provenance(file=file, line=line)


def host(name: str, nics: dict[str, list[str]], defaults: list[tuple[str, str, int]],
         input_rules: Sequence[str] = (), forward_policy: str = "ACCEPT",
         sysctls: dict[str, str] | None = None) -> Host:
    interfaces = {}
    for i, (nic, addrs) in enumerate(nics.items(), start=1):
        interfaces[nic] = Interface(
            name=nic, index=i, mtu=1500, flags=["UP"], src=src("links/ip-d-address", i * 10), raw=f"{i}: {nic}:",
            addresses=[IfAddress(address=ip_interface(a), src=src("links/ip-d-address", i * 10 + 2),
                                 raw=f"inet {a}") for a in addrs],
        )
    routes = [
        Route(origin="ip-route", dst=ip_network("0.0.0.0/0"), gateway=ip_address(gw), dev=dev, metric=metric,
              src=src("routes/ip-route", n), raw=f"default via {gw} dev {dev} metric {metric}")
        for n, (dev, gw, metric) in enumerate(defaults, start=1)
    ]
    for nic, addrs in nics.items():
        for a in addrs:
            iface = ip_interface(a)
            routes.append(Route(origin="ip-route", dst=iface.network, dev=nic, scope="link", proto="kernel",
                                src=src("routes/ip-route", len(routes) + 1), raw=f"{iface.network} dev {nic}"))
    rules = [
        IptRule(table="filter", chain="INPUT", position=n, src=src("firewall/iptables-save", 10 + n), raw=text,
                target=Target(name=text.split("-j ")[1].split()[0],
                              options={"reject-with": "icmp-host-prohibited"} if "REJECT" in text else {}),
                source=AddrMatch(net=ip_network(text.split("-s ")[1].split()[0])) if "-s " in text else None)
        for n, text in enumerate(input_rules, start=1)
    ]
    filt = Table(name="filter", src=src("firewall/iptables-save", 1), chains={
        "INPUT": Chain(name="INPUT", policy="ACCEPT", rules=rules, src=src("firewall/iptables-save", 2)),
        "FORWARD": Chain(name="FORWARD", policy=forward_policy, src=src("firewall/iptables-save", 3)),
    })
    sys = {k: Sysctl(key=k, value=v, src=src("kernel/sysctl", n), raw=f"{k} = {v}")
           for n, (k, v) in enumerate((sysctls or {}).items(), start=1)}
    return Host(
        name=name, bundle=BundleInfo(path=f"/b/{name}", kind="collector"), identity=Identity(hostname=name),
        interfaces=interfaces, routes=routes, routes_origin="ip_route",
        iptables={"iptables": Ruleset(variant="iptables", tables={"filter": filt}, file="firewall/iptables-save")},
        sysctls=sys,
    )
