"""Per-host lookup structures, built once per host and shared by every trace query.

Routing tables are bucketed by prefix length (longest-prefix match is at most 33 dict lookups);
iptables chains index their rules by destination and source network so a packet only tests the
rules that can match its addresses, in chain order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from typing import Any

from netsnap.combine.coverage import present
from netsnap.combine.firewall import enforced_views
from netsnap.combine.platform import platform_of
from netsnap.model.base import Provenance
from netsnap.model.evidence import Evidence
from netsnap.model.host import Host, SourceState
from netsnap.model.interfaces import Interface
from netsnap.model.iptables import Chain, IptRule, Ruleset
from netsnap.model.neighbours import FdbEntry, Neighbour
from netsnap.model.routes import PolicyRule, Route

IPAddress = IPv4Address | IPv6Address

# Interfaces a packet crosses to leave the machine (a cloud port with security groups) are the
# ones that are none of these kinds and not enslaved to a bridge.
VIRTUAL_KINDS = frozenset({"bridge", "vxlan", "dummy", "tun", "tap", "ipip", "gre", "loopback", "wireguard"})
# targets that cannot change a packet's fate: the walk skips them (so the chain index leaves them out)
NON_TERMINAL = frozenset({
    "LOG", "NFLOG", "ULOG", "TRACE", "CONNMARK", "CT", "NOTRACK", "CHECKSUM", "TCPMSS", "AUDIT", "CLASSIFY",
    "DSCP", "TOS", "TTL", "SET", "CONNSECMARK", "SECMARK", "NETMAP", "IDLETIMER", "LED",
})
DEFAULT_POLICY = (
    (0, "local"),
    (32766, "main"),
    (32767, "default"),
)


@lru_cache(maxsize=1 << 16)
def cached_evidence(host: str, file: str, line: int, text: str) -> Evidence:
    """Evidence is frozen: the same quoted line is built once and shared by every trace."""
    return Evidence(host=host, file=file, line=line, text=text)


def evidence(host: str, src: Provenance | None, text: str) -> Evidence:
    return cached_evidence(host, src.file if src else "", src.line if src else 0, text)


def _ip_int(ip: IPAddress) -> int:
    return int(ip)


class RouteTable:
    """One routing table: routes bucketed by prefix length, dump order kept within a prefix."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []
        self._buckets: dict[int, dict[int, list[Route]]] = {}
        self._probe: list[tuple[int, dict[int, list[Route]]]] = []  # (netmask, bucket), longest prefix first

    def add(self, route: Route) -> None:
        if route.dst.version != 4:
            return
        self.routes.append(route)
        bucket = self._buckets.setdefault(route.dst.prefixlen, {})
        bucket.setdefault(int(route.dst.network_address), []).append(route)
        self._probe = []  # rebuilt on the next lookup (rebuilding per add made loading 10k routes quadratic-ish)

    def lookup(self, ip: IPAddress) -> list[Route]:
        """All routes of the longest matching prefix, in dump order (metric not yet applied).

        The list returned is the table's own (the same object for every address it covers)."""
        value = _ip_int(ip)
        probe = self._probe
        if not probe and self._buckets:
            probe = self._probe = [(((1 << plen) - 1) << (32 - plen) if plen else 0, self._buckets[plen])
                                   for plen in sorted(self._buckets, reverse=True)]
        for mask, bucket in probe:
            found = bucket.get(value & mask)
            if found:
                return found
        return []


class ChainIndex:
    """A chain's rules with a destination/source index; `candidates(src, dst)` keeps chain order and
    leaves out rules whose target cannot decide anything (no target, LOG, ...).

    The index is built on the first `candidates` call: a trace reaches few of kube-proxy's ~50k chains
    (a KUBE-SVC-/KUBE-SEP- chain only through its cluster IP's rule), so most are never indexed."""

    __slots__ = ("_always", "_built", "_by_dst", "_by_src", "_dst_probe", "_indexed", "_src_probe", "chain")

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._built = False

    @property
    def rules(self) -> list[IptRule]:
        """The chain's rules (built on first use: a parser may leave them pending, see model.iptables.Chain)."""
        return self.chain.rules

    # what a walk that no rule decides reports (the same for every packet; made when asked: most chains never are)
    @property
    def policy_text(self) -> str:
        return f":{self.chain.name} {self.chain.policy or 'ACCEPT'}"

    @property
    def policy_detail(self) -> str:
        return f"no rule decided; chain {self.chain.name} policy {self.chain.policy or 'ACCEPT'}"

    def _build(self) -> None:
        self._built = True
        self._always: list[int] = []
        self._by_dst: dict[int, dict[int, list[int]]] = {}
        self._by_src: dict[int, dict[int, list[int]]] = {}
        for i, rule in enumerate(self.rules):
            if rule.target is None or rule.target.name in NON_TERMINAL:
                continue  # counting or logging rules cannot change the packet's fate: never a candidate
            dst = rule.destination
            src = rule.source
            if dst is not None and not dst.negated and dst.net.version == 4 and dst.net.prefixlen > 0:
                self._by_dst.setdefault(dst.net.prefixlen, {}).setdefault(int(dst.net.network_address), []).append(i)
            elif src is not None and not src.negated and src.net.version == 4 and src.net.prefixlen > 0:
                self._by_src.setdefault(src.net.prefixlen, {}).setdefault(int(src.net.network_address), []).append(i)
            else:
                self._always.append(i)
        self._indexed = bool(self._by_dst or self._by_src)
        self._dst_probe = [(((1 << plen) - 1) << (32 - plen), t) for plen, t in self._by_dst.items()]
        self._src_probe = [(((1 << plen) - 1) << (32 - plen), t) for plen, t in self._by_src.items()]

    def candidates(self, src: IPAddress | None, dst: IPAddress) -> list[int]:
        """Indexes of the rules that may match a packet from `src` to `dst`, in chain order (shared
        lists: callers must not modify them)."""
        if not self._built:
            self._build()
        if not self._indexed:
            return self._always
        lists: list[list[int]] | None = None
        if self._dst_probe and isinstance(dst, IPv4Address):
            value = int(dst)
            for mask, table in self._dst_probe:
                found = table.get(value & mask)
                if found:
                    if lists is None:
                        lists = [self._always, found]
                    else:
                        lists.append(found)
        if self._src_probe and isinstance(src, IPv4Address):
            value = int(src)
            for mask, table in self._src_probe:
                found = table.get(value & mask)
                if found:
                    if lists is None:
                        lists = [self._always, found]
                    else:
                        lists.append(found)
        if lists is None:
            return self._always
        if not self._always and len(lists) == 2:
            return lists[1]
        # the lists are disjoint (a rule sits in one list, one prefix bucket each): sorting restores chain order
        merged = [i for part in lists for i in part]
        merged.sort()
        return merged


class ChainIndexes(Mapping[tuple[str, str], ChainIndex]):
    """One view's chains by (table, chain); each ChainIndex is made on its first lookup (a trace looks
    up a handful of kube-proxy's 50k chains). `chains()` walks them without making any."""

    __slots__ = ("_made", "_ruleset")

    def __init__(self, ruleset: Ruleset) -> None:
        self._ruleset = ruleset
        self._made: dict[tuple[str, str], ChainIndex] = {}

    def __getitem__(self, key: tuple[str, str]) -> ChainIndex:
        made = self._made.get(key)
        if made is None:
            table = self._ruleset.tables.get(key[0])
            chain = table.chains.get(key[1]) if table is not None else None
            if chain is None:
                raise KeyError(key)
            made = self._made[key] = ChainIndex(chain)
        return made

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        table = self._ruleset.tables.get(key[0])
        return table is not None and key[1] in table.chains

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for tname, table in self._ruleset.tables.items():
            for cname in table.chains:
                yield tname, cname

    def __len__(self) -> int:
        return sum(len(t.chains) for t in self._ruleset.tables.values())

    def chains(self) -> Iterator[tuple[tuple[str, str], Chain]]:
        for tname, table in self._ruleset.tables.items():
            for cname, chain in table.chains.items():
                yield (tname, cname), chain


@dataclass
class Connected:
    """One connected network of a host: the interface and the address that makes it."""

    network: IPv4Network
    iface: str
    address: IPv4Address


@dataclass
class HostIndex:
    """Everything a trace asks of one host, precomputed."""

    host: Host
    name: str = ""
    local_ips: dict[IPAddress, str] = field(default_factory=dict)
    connected: list[Connected] = field(default_factory=list)
    connected_on: dict[IPv4Network | IPv6Network, list[Connected]] = field(default_factory=dict)  # `connected` by net
    tables: dict[str, RouteTable] = field(default_factory=dict)
    policy: list[PolicyRule] = field(default_factory=list)
    views: dict[str, ChainIndexes] = field(default_factory=dict)  # view -> (table, chain) -> ChainIndex
    missing_views: list[str] = field(default_factory=list)  # loaded but not collected
    neigh: dict[tuple[str, IPAddress], Neighbour] = field(default_factory=dict)
    fdb: dict[tuple[str, str], list[FdbEntry]] = field(default_factory=dict)
    vxlan: dict[str, Interface] = field(default_factory=dict)
    route_cache: dict[tuple[object, ...], Any] = field(default_factory=dict)
    decision_cache: dict[tuple[object, ...], Any] = field(default_factory=dict)  # see routing._lookup
    policy_plan: list[tuple[int, PolicyRule | None, str]] = field(default_factory=list)
    _rp_filter: dict[str, tuple[int | None, str]] = field(default_factory=dict)
    no_rules: bool = False  # iptables-save ran and printed nothing: no table is loaded, all is accepted
    cloud: str | None = None  # the evidence that a cloud security group may sit in front of the NICs
    facts: frozenset[str] = frozenset()  # the facts the host holds (absent: not collected, not "empty")

    @classmethod
    def build(cls, host: Host) -> HostIndex:
        idx = cls(host=host, name=host.name)
        for iface in host.interfaces.values():
            if iface.vxlan is not None or iface.kind == "vxlan":
                idx.vxlan[iface.name] = iface
            for a in iface.addresses:
                if a.address.version != 4:
                    continue
                idx.local_ips.setdefault(a.address.ip, iface.name)
                net = a.address.network
                if net.prefixlen < 32:
                    assert isinstance(net, IPv4Network) and isinstance(a.address.ip, IPv4Address)
                    idx.connected.append(Connected(net, iface.name, a.address.ip))
                    idx.connected_on.setdefault(net, []).append(idx.connected[-1])
        for route in host.routes:
            table = idx.tables.get(route.table)
            if table is None:
                table = idx.tables[route.table] = RouteTable(route.table)
            table.add(route)
            host_route = route.dst.version == 4 and route.dst.prefixlen == 32
            if route.table == "local" and route.type == "local" and host_route:
                idx.local_ips.setdefault(route.dst.network_address, route.dev or "lo")
        if "local" not in idx.tables:
            # route -n and /proc/net/route only show main: rebuild local from the owned addresses
            local = idx.tables["local"] = RouteTable("local")
            prov = Provenance(file=host.sources["ip_addr"].file or "") if "ip_addr" in host.sources else Provenance(
                file="")
            for ip, dev in idx.local_ips.items():
                local.add(Route(origin="ip-route", table="local", type="local", dst=ip_network(f"{ip}/32"), dev=dev,
                                src=prov, raw=f"local {ip} dev {dev} (from the interface addresses)"))
            local.add(Route(origin="ip-route", table="local", type="local", dst=ip_network("127.0.0.0/8"), dev="lo",
                            src=Provenance(file=""), raw="local 127.0.0.0/8 dev lo (implicit)"))
        idx.policy = sorted(host.policy_rules, key=lambda r: r.priority)
        idx.policy_plan = idx.policy_or_default()
        idx.cloud = platform_of(host).cloud
        idx.facts = present(host)
        firewall = enforced_views(host)
        idx.missing_views = firewall.missing
        for view, ruleset in firewall.views.items():
            idx.views[view] = ChainIndexes(ruleset)
        if not idx.views:
            idx.no_rules = any(
                st.state == SourceState.EMPTY and st.exit_code == 0
                for key, st in host.sources.items() if key in ("iptables_save", "iptables_nft_save")
            )
        for n in host.neighbours:
            if n.dev:
                idx.neigh.setdefault((n.dev, n.address), n)
        for f in host.fdb:
            if f.dev:
                idx.fdb.setdefault((f.dev, f.mac.lower()), []).append(f)
        return idx

    def iface(self, name: str | None) -> Interface | None:
        return self.host.interfaces.get(name) if name else None

    def is_physical_port(self, name: str | None) -> bool:
        """True when leaving/entering through `name` crosses the machine's own NIC (where a cloud security
        group may sit: see TraceEngine._cloud_port)."""
        iface = self.iface(name)
        if iface is None or name == "lo":
            return False
        if iface.master:
            return False
        return (iface.kind or "") not in VIRTUAL_KINDS

    def is_bridge(self, name: str | None) -> bool:
        iface = self.iface(name)
        return iface is not None and iface.kind == "bridge"

    def primary_address(self, dev: str | None, toward: IPAddress | None = None) -> IPv4Address | None:
        """The source address the kernel would pick on `dev` (the one whose network holds `toward`)."""
        iface = self.iface(dev)
        if iface is None:
            return None
        first: IPv4Address | None = None
        for a in iface.addresses:
            if a.address.version != 4 or a.secondary:
                continue
            ip = a.address.ip
            assert isinstance(ip, IPv4Address)
            if toward is not None and toward in a.address.network:
                return ip
            if first is None:
                first = ip
        return first

    def sysctl_int(self, key: str) -> int | None:
        value = self.host.sysctl(key)
        if value is None:
            return None
        try:
            return int(value.strip())
        except ValueError:
            return None

    def rp_filter(self, dev: str) -> tuple[int | None, str]:
        """max(all, dev) rp_filter, as the kernel uses it, and the keys it came from (memoised per dev)."""
        found = self._rp_filter.get(dev)
        if found is None:
            found = self._rp_filter[dev] = self._rp_filter_of(dev)
        return found

    def _rp_filter_of(self, dev: str) -> tuple[int | None, str]:
        all_v = self.sysctl_int("net.ipv4.conf.all.rp_filter")
        dev_v = self.sysctl_int(f"net.ipv4.conf.{dev}.rp_filter")
        if dev_v is None:
            dev_v = self.sysctl_int(f"net.ipv4.conf.{dev.replace('.', '/')}.rp_filter")
        values = [v for v in (all_v, dev_v) if v is not None]
        if not values:
            return None, ""
        return max(values), f"all={all_v} {dev}={dev_v}"

    def sysctl_evidence(self, key: str) -> Evidence:
        s = self.host.sysctls.get(key)
        if s is None:
            return Evidence(host=self.name, file="", text=f"{key} not collected")
        return evidence(self.name, s.src, s.raw or f"{key} = {s.value}")

    def policy_or_default(self) -> list[tuple[int, PolicyRule | None, str]]:
        if self.policy:
            return [(r.priority, r, r.table or "") for r in self.policy]
        return [(prio, None, table) for prio, table in DEFAULT_POLICY]
