"""Small builders that make model Hosts from compact text, for trace unit tests (no parsers).

    host("master",
         links=["eth1 192.168.0.10/24", "flannel.1 10.244.0.0/32 vxlan 1 local 192.168.0.10 dstport 8472 mac aa:..",
                "cni0 10.244.0.1/24 bridge"],
         routes=["default via 192.168.0.1 dev eth1", "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink"],
         iptables="*filter\\n:INPUT ACCEPT [0:0]\\n...COMMIT",
         neigh=["10.244.1.0 dev flannel.1 lladdr 02:.. PERMANENT"], fdb=["02:.. dev flannel.1 dst 192.168.0.11"],
         sysctl={"net.ipv4.ip_forward": "1"})
"""

from __future__ import annotations

import shlex
from ipaddress import ip_address, ip_interface, ip_network

from netsnap.model import (
    AddrMatch,
    BundleInfo,
    Chain,
    FdbEntry,
    Host,
    Identity,
    IfAddress,
    Interface,
    IptRule,
    MatchModule,
    MatchOption,
    Neighbour,
    NextHop,
    PolicyRule,
    Provenance,
    Route,
    Ruleset,
    Snapshot,
    SourceState,
    SourceStatus,
    Sysctl,
    Table,
    Target,
    VxlanInfo,
)
from netsnap.model.iptables import NameMatch

P_LINK = "links/ip-d-address"
P_ROUTE = "routes/ip-route"
P_RULE = "routes/ip-rule"
P_IPT = "firewall/iptables-save"


def _link(spec: str, line: int) -> Interface:
    words = spec.split()
    name = words[0]
    kind = None
    mtu = 1500
    mac = None
    vx: dict[str, int | str] | None = None
    addrs = []
    master = None
    i = 1
    while i < len(words):
        w = words[i]
        if "/" in w and w[0].isdigit():
            addrs.append(IfAddress(address=ip_interface(w), src=Provenance(file=P_LINK, line=line), raw=f"inet {w}"))
        elif w in ("bridge", "veth", "dummy"):
            kind = w
        elif w == "vxlan":
            kind = "vxlan"
            vx = {"vni": int(words[i + 1])}
            i += 1
        elif w == "local":
            assert vx is not None
            vx["local"] = words[i + 1]
            i += 1
        elif w == "dstport":
            assert vx is not None
            vx["dstport"] = int(words[i + 1])
            i += 1
        elif w == "mtu":
            mtu = int(words[i + 1])
            i += 1
        elif w == "mac":
            mac = words[i + 1]
            i += 1
        elif w == "master":
            master = words[i + 1]
            i += 1
        else:
            raise ValueError(f"link spec word {w!r}")
        i += 1
    vxlan = None
    if vx is not None:
        vxlan = VxlanInfo(vni=vx["vni"], local=ip_address(vx["local"]) if "local" in vx else None,
                          dstport=vx.get("dstport"), src=Provenance(file="links/ip-d-link", line=line))
    return Interface(name=name, kind=kind, mtu=mtu, mac=mac, master=master, flags=["UP"], addresses=addrs,
                     vxlan=vxlan, src=Provenance(file=P_LINK, line=line), raw=spec)


def _route(spec: str, line: int) -> Route:
    words = spec.split()
    rtype = "unicast"
    if words[0] in ("blackhole", "unreachable", "prohibit", "local", "throw", "broadcast"):
        rtype = words.pop(0)
    dst = "0.0.0.0/0" if words[0] == "default" else words[0]
    kw: dict[str, object] = {}
    nexthops = []
    i = 1
    while i < len(words):
        w = words[i]
        if w == "via":
            kw["gateway"] = ip_address(words[i + 1])
            i += 2
        elif w == "dev":
            kw["dev"] = words[i + 1]
            i += 2
        elif w == "metric":
            kw["metric"] = int(words[i + 1])
            i += 2
        elif w == "table":
            kw["table"] = words[i + 1]
            i += 2
        elif w == "src":
            kw["prefsrc"] = ip_address(words[i + 1])
            i += 2
        elif w == "onlink":
            kw["onlink"] = True
            i += 1
        elif w == "nexthop":
            # nexthop via A dev X weight W
            gw, dev, weight = words[i + 2], words[i + 4], int(words[i + 6])
            nexthops.append(NextHop(gateway=ip_address(gw), dev=dev, weight=weight))
            i += 7
        elif w in ("proto", "scope"):
            kw[w] = words[i + 1]
            i += 2
        else:
            raise ValueError(f"route spec word {w!r}")
    return Route(origin="ip-route", type=rtype, dst=ip_network(dst, strict=False), nexthops=nexthops,
                 src=Provenance(file=P_ROUTE, line=line), raw=spec, **kw)


def _rule(spec: str, line: int) -> PolicyRule:
    prio_s, rest = spec.split(":", 1)
    words = rest.split()
    kw: dict[str, object] = {"priority": int(prio_s)}
    i = 0
    while i < len(words):
        w = words[i]
        if w == "from":
            if words[i + 1] != "all":
                kw["from_net"] = ip_network(words[i + 1], strict=False)
            i += 2
        elif w == "to":
            kw["to_net"] = ip_network(words[i + 1], strict=False)
            i += 2
        elif w in ("iif", "oif", "fwmark"):
            kw[w] = words[i + 1]
            i += 2
        elif w == "lookup":
            kw["table"] = words[i + 1]
            i += 2
        elif w in ("blackhole", "unreachable", "prohibit"):
            kw["action"] = w
            i += 1
        else:
            raise ValueError(f"rule spec word {w!r}")
    return PolicyRule(src=Provenance(file=P_RULE, line=line), raw=spec, **kw)


MODULE_OPTS = {"--dport", "--sport", "--dports", "--sports", "--state", "--ctstate", "--icmp-type", "--dst-type",
               "--src-type", "--mark", "--mode", "--probability", "--match-set", "--comment", "--syn", "--tcp-flags"}


def parse_iptables_save(text: str, file: str = P_IPT) -> Ruleset:
    """A minimal iptables-save reader for tests (the real parser lives elsewhere)."""
    tables: dict[str, Table] = {}
    table: Table | None = None
    counts: dict[tuple[str, str], int] = {}
    for ln, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = tables[line[1:]] = Table(name=line[1:], src=Provenance(file=file, line=ln))
            continue
        assert table is not None
        if line.startswith(":"):
            name, policy = line[1:].split()[:2]
            table.chains[name] = Chain(name=name, policy=None if policy == "-" else policy,
                                       src=Provenance(file=file, line=ln))
            continue
        toks = shlex.split(line)
        assert toks[0] == "-A"
        chain = toks[1]
        counts[(table.name, chain)] = counts.get((table.name, chain), 0) + 1
        kw: dict[str, object] = {}
        matches: list[MatchModule] = []
        target = None
        i = 2
        neg = False
        while i < len(toks):
            t = toks[i]
            if t == "!":
                neg = True
                i += 1
                continue
            if t in ("-s", "-d"):
                kw["source" if t == "-s" else "destination"] = AddrMatch(net=ip_network(toks[i + 1], strict=False),
                                                                         negated=neg)
                i += 2
            elif t in ("-i", "-o", "-p"):
                key = {"-i": "in_iface", "-o": "out_iface", "-p": "protocol"}[t]
                kw[key] = NameMatch(value=toks[i + 1], negated=neg)
                if t == "-p" and toks[i + 1] in ("tcp", "udp", "icmp"):
                    matches.append(MatchModule(module=toks[i + 1], options=[]))
                i += 2
            elif t == "-m":
                mod = toks[i + 1]
                if not (matches and matches[-1].module == mod and not matches[-1].options):
                    matches.append(MatchModule(module=mod, options=[], known=mod not in ("physdev", "weird")))
                i += 2
            elif t in ("-j", "-g"):
                name = toks[i + 1]
                opts: dict[str, str] = {}
                i += 2
                while i < len(toks) and toks[i].startswith("--"):
                    opts[toks[i][2:]] = toks[i + 1]
                    i += 2
                target = Target(name=name, goto=t == "-g", options=opts)
            elif t.startswith("--"):
                vals = []
                j = i + 1
                while j < len(toks) and not toks[j].startswith("-") and toks[j] != "!":
                    vals.append(toks[j])
                    j += 1
                if t == "--tcp-flags":
                    vals = toks[i + 1:i + 3]
                    j = i + 3
                if not matches:
                    raise ValueError(f"option {t} without a module: {line}")
                matches[-1].options.append(MatchOption(name=t[2:], values=vals, negated=neg))
                i = j
            else:
                raise ValueError(f"token {t!r} in {line}")
            neg = False
        rule = IptRule(table=table.name, chain=chain, position=counts[(table.name, chain)], matches=matches,
                       target=target, src=Provenance(file=file, line=ln), raw=line, **kw)
        table.chains[chain].rules.append(rule)
    return Ruleset(variant="iptables", tables=tables, file=file)


def host(
    name: str,
    links: list[str],
    routes: list[str] = (),  # type: ignore[assignment]
    iptables: str | None = None,
    neigh: list[str] = (),  # type: ignore[assignment]
    fdb: list[str] = (),  # type: ignore[assignment]
    rules: list[str] = (),  # type: ignore[assignment]
    sysctl: dict[str, str] | None = None,
) -> Host:
    ifaces = {}
    for n, spec in enumerate(links, start=1):
        iface = _link(spec, n)
        ifaces[iface.name] = iface
    neighbours = []
    for n, spec in enumerate(neigh, start=1):
        w = spec.split()
        neighbours.append(Neighbour(address=ip_address(w[0]), dev=w[2], lladdr=w[4] if "lladdr" in w else None,
                                    states=[x for x in w if x.isupper()], src=Provenance(file="neigh/ip-neigh", line=n),
                                    raw=spec))
    fdbs = []
    for n, spec in enumerate(fdb, start=1):
        w = spec.split()
        fdbs.append(FdbEntry(mac=w[0], dev=w[2], dst=ip_address(w[4]) if "dst" in w else None,
                             src=Provenance(file="neigh/bridge-fdb", line=n), raw=spec))
    sysctls = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0"}
    sysctls.update(sysctl or {})
    collected = {"ip_addr": len(links), "ip_link": len(links), "ip_route": len(routes), "ip_neigh": len(neigh),
                 "bridge_fdb": len(fdb), "ip_rule": len(rules), "sysctl": len(sysctls)}
    if iptables is not None:
        collected["iptables_save"] = 1
    sources = {sid: SourceStatus(source=sid, state=SourceState.OK, parsed=n, lines=n)
               for sid, n in collected.items()}
    return Host(
        sources=sources,
        name=name,
        bundle=BundleInfo(path=f"/tmp/{name}", kind="collector"),
        identity=Identity(hostname=name),
        interfaces=ifaces,
        routes=[_route(r, n) for n, r in enumerate(routes, start=1)],
        policy_rules=[_rule(r, n) for n, r in enumerate(rules, start=1)],
        neighbours=neighbours,
        fdb=fdbs,
        iptables={"iptables": parse_iptables_save(iptables)} if iptables is not None else {},
        sysctls={k: Sysctl(key=k, value=v, src=Provenance(file="kernel/sysctl", line=i), raw=f"{k} = {v}")
                 for i, (k, v) in enumerate(sysctls.items(), start=1)},
    )


ACCEPT_ALL = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
"""


def overlay(
    master_ipt: str = ACCEPT_ALL,
    node_ipt: str = ACCEPT_ALL,
    master_vtep: str = "192.168.0.10",
    extra_master_links: list[str] = (),  # type: ignore[assignment]
    master_routes: list[str] | None = None,
    node_sysctl: dict[str, str] | None = None,
    node_port: int = 8472,
    cloud: bool = True,
) -> Snapshot:
    """Incident-A shaped cluster: master 192.168.0.10 (lease 10.244.0.0/24), node1 192.168.0.11 (10.244.1.0/24).
    `cloud`: the NICs carry OpenStack's MAC prefix (a security group may sit in front of them)."""

    def mac(n: int) -> str:
        return f" mac fa:16:3e:00:00:0{n}" if cloud else ""

    master = host(
        "master",
        links=["lo 127.0.0.1/8", f"eth1 192.168.0.10/24{mac(1)}",
               f"flannel.1 10.244.0.0/32 vxlan 1 local {master_vtep} dstport 8472 mtu 1450 mac 0a:00:00:00:00:01",
               "cni0 10.244.0.1/24 bridge mtu 1450", *extra_master_links],
        routes=master_routes or ["default via 192.168.0.1 dev eth1", "192.168.0.0/24 dev eth1 proto kernel",
                                 "10.244.0.0/24 dev cni0 proto kernel",
                                 "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink"],
        iptables=master_ipt,
        neigh=["10.244.1.0 dev flannel.1 lladdr 0a:00:00:00:00:02 PERMANENT"],
        fdb=["0a:00:00:00:00:02 dev flannel.1 dst 192.168.0.11 self permanent"],
    )
    node = host(
        "node1",
        links=["lo 127.0.0.1/8", f"eth1 192.168.0.11/24{mac(2)}",
               f"flannel.1 10.244.1.0/32 vxlan 1 local 192.168.0.11 dstport {node_port} mtu 1450 "
               "mac 0a:00:00:00:00:02",
               "cni0 10.244.1.1/24 bridge mtu 1450"],
        routes=["default via 192.168.0.1 dev eth1", "192.168.0.0/24 dev eth1 proto kernel",
                "10.244.1.0/24 dev cni0 proto kernel", "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink"],
        iptables=node_ipt,
        neigh=["10.244.0.0 dev flannel.1 lladdr 0a:00:00:00:00:01 PERMANENT"],
        fdb=[f"0a:00:00:00:00:01 dev flannel.1 dst {master_vtep} self permanent"],
        sysctl=node_sysctl,
    )
    return Snapshot(hosts=[master, node])
