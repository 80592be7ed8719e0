"""The packet trace: from a host to an IP, through netfilter, routing, VXLAN and security groups,
and back (the reply), ending in a Batfish-style disposition and a three-valued verdict.

`TraceEngine(snapshot, security_groups)` builds per-host indexes once; `.trace(...)` answers many
queries. `trace(...)` is the one-shot form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, ip_address

from netsnap.combine.completion import complete
from netsnap.combine.overlay import DEFAULT_VXLAN_PORT, Cluster
from netsnap.combine.platform import NO_CLOUD
from netsnap.model.base import Provenance
from netsnap.model.evidence import Evidence
from netsnap.model.host import Snapshot
from netsnap.model.interfaces import Interface
from netsnap.model.neighbours import FdbEntry
from netsnap.secgroups.evaluate import evaluate, required_rule
from netsnap.secgroups.model import Direction, SecurityGroups
from netsnap.trace import routing
from netsnap.trace.index import HostIndex, evidence
from netsnap.trace.netfilter import HookResult, Netfilter
from netsnap.trace.packet import ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, VXLAN_OVERHEAD, Packet, ipstr
from netsnap.trace.result import Disposition, Doubt, StepAction, TraceResult, Verdict
from netsnap.trace.run import ForkPoint, Run, TooManyHops

IPAddress = IPv4Address | IPv6Address
EPHEMERAL_PORT = 40000
MAX_BRANCHES = 64
FAILED_NEIGH = frozenset({"FAILED", "INCOMPLETE"})


@dataclass(frozen=True)
class _Arrival:
    """Where a packet from outside the snapshot arrives, and the inner (src, dst) of a VXLAN packet."""

    iface: str
    inner: tuple[str, str] | None = None


class TraceError(ValueError):
    """A query that cannot be traced (unknown host, bad address); str() is one line."""


@dataclass
class Outcome:
    """How one direction of a run ended."""

    disposition: Disposition
    reason: str
    host: str
    pkt: Packet
    local: bool = False
    deliver_dev: str | None = None
    consulted: list[Evidence] = field(default_factory=list)


class TraceEngine:
    """Reusable tracer over one Snapshot; indexes are built once in the constructor."""

    def __init__(self, snapshot: Snapshot, security_groups: SecurityGroups | None = None,
                 cluster: Cluster | None = None) -> None:
        snapshot = complete(snapshot)  # what the bundles imply but do not hold, as assumptions
        self.snapshot = snapshot
        cluster = cluster if cluster is not None else Cluster(snapshot)
        # the pod leases of the analysed hosts: a packet for one of them must take the overlay
        self.leases: list[tuple[IPv4Network, str]] = [
            (f.lease, name) for name, f in cluster.facts.items() if f.lease is not None]
        self.security_groups = security_groups if security_groups is not None else SecurityGroups()
        self.hosts: dict[str, HostIndex] = {h.name: HostIndex.build(h) for h in snapshot.hosts}
        self.netfilters: dict[str, Netfilter] = {n: Netfilter(idx) for n, idx in self.hosts.items()}
        self.owner: dict[IPAddress, tuple[str, str]] = {}
        for name, idx in self.hosts.items():
            for ip, dev in idx.local_ips.items():
                if dev != "lo" and not ip.is_loopback:
                    self.owner.setdefault(ip, (name, dev))
        # (host, vxlan dev, next hop) -> what encapsulation does there, when it needs no assumption (see _encapsulate)
        self._encap_plans: dict[tuple[str, str, IPAddress], tuple[IPAddress, int, int, IPAddress | None,
                                                                  list[Evidence], str]] = {}
        # (host, udp port, vni) -> the VXLAN device that takes the packet, its evidence and the step text
        self._decap_plans: dict[tuple[str, int | None, int | None], tuple[str, list[Evidence], str]] = {}

    def host_of_ip(self, ip: str) -> str | None:
        try:
            found = self.owner.get(ip_address(ip))
        except ValueError:
            return None
        return found[0] if found else None

    # ------------------------------------------------------------------ public API

    def trace(
        self, src_host: str, dst_ip: str, proto: str = "icmp", port: int | None = None, size: int | None = None,
        *, src_ip: str | None = None, bypass: frozenset[str] = frozenset(), arrive_on: str | None = None,
        inner: tuple[str, str] | None = None, one_way: bool = False,
    ) -> TraceResult:
        """Trace one flow; forks (statistic rules, multipath, equal defaults) become `branches`.

        `src_ip`: a local address of the source host (a socket bound to it), or an address on one of its
        bridges (a pod or container behind it: the packet arrives on the bridge). `bypass`: checks
        (Step.check keys) that let the packet pass, to find what else on the path would stop it.
        `arrive_on`: the packet comes from outside the snapshot (from `src_ip`, a host not analysed) and
        arrives on this interface of `src_host`, after its security group; `inner` (src, dst) makes it a
        VXLAN packet carrying an ICMP echo between those addresses. `one_way`: no reply is traced."""
        name = src_host if src_host in self.hosts else None
        if name is None:
            found = self.snapshot.host(src_host)
            name = found.name if found is not None and found.name in self.hosts else None
        if name is None:
            raise TraceError(f"host {src_host!r} is not in the snapshot")
        try:
            dst = ip_address(dst_ip)
        except ValueError:
            raise TraceError(f"{dst_ip!r} is not an IP address") from None
        if dst.version != 4:
            raise TraceError(f"{dst_ip}: only IPv4 is traced")
        if proto not in ("icmp", "tcp", "udp"):
            raise TraceError(f"protocol {proto!r} is not icmp, tcp or udp")
        if proto in ("tcp", "udp") and port is None:
            raise TraceError(f"--port is required for {proto}")
        src: IPAddress | None = None
        if src_ip is not None:
            try:
                src = ip_address(src_ip)
            except ValueError:
                raise TraceError(f"{src_ip!r} is not an IP address") from None
            if arrive_on is None and src not in self.hosts[name].local_ips and \
                    self._bridge_of(self.hosts[name], src) is None:
                raise TraceError(f"{src_ip} is neither an address of {name} nor behind one of its bridges")
        leaves: list[TraceResult] = []
        pending: list[list[int]] = [[]]
        truncated = False
        while pending:
            preset = pending.pop()
            leaf, forks = self._run(preset, self.hosts[name], dst, proto, port, size, src, bypass,
                                    _Arrival(arrive_on, inner) if arrive_on else None, one_way)
            leaves.append(leaf)
            for k in range(len(preset), len(forks)):
                prefix = [f.choice for f in forks[:k]]
                for alt in range(forks[k].options - 1, 0, -1):
                    pending.append([*prefix, alt])
            if len(leaves) >= MAX_BRANCHES and pending:
                truncated = True
                break
        leaves.sort(key=lambda r: -r.share)
        if len(leaves) == 1 and not truncated:
            return leaves[0]
        return _combine(leaves, truncated)

    # ------------------------------------------------------------------ one run

    def _arrive(self, run: Run, h: HostIndex, pkt: Packet) -> Outcome:
        """A packet from outside the snapshot: the host's security group, then the host receives it."""
        if self._cloud_port(run, h, pkt.iif) and pkt.src is not None:
            fail = self._security_group(run, h, "ingress", pkt, pkt.src)
            if fail:
                return fail
        return self._receive(run, h, pkt)

    def _bridge_of(self, h: HostIndex, ip: IPAddress) -> str | None:
        """The bridge whose connected network holds `ip` (a pod or container address behind it)."""
        for c in h.connected:
            if ip in c.network and ip != c.address and h.is_bridge(c.iface):
                return c.iface
        return None

    def _run(
        self, preset: list[int], src: HostIndex, dst: IPAddress, proto: str, port: int | None, size: int | None,
        src_ip: IPAddress | None = None, bypass: frozenset[str] = frozenset(), arrival: _Arrival | None = None,
        one_way: bool = False,
    ) -> tuple[TraceResult, list[ForkPoint]]:
        run = Run(preset, bypass=bypass)
        pkt = Packet(
            src=src_ip, dst=dst, proto=proto, sport=EPHEMERAL_PORT if proto != "icmp" else None, dport=port,
            icmp_type=ICMP_ECHO_REQUEST if proto == "icmp" else None, size=size,
        )
        bridge = None
        if arrival is None and src_ip is not None and src_ip not in src.local_ips:
            bridge = self._bridge_of(src, src_ip)
        if arrival is not None:
            run.first_src = str(src_ip)
            if arrival.inner is not None:
                inner = Packet(src=ip_address(arrival.inner[0]), dst=ip_address(arrival.inner[1]), proto="icmp")
                vni = next((i.vxlan.vni for i in src.vxlan.values() if i.vxlan is not None
                            and (i.vxlan.dstport or DEFAULT_VXLAN_PORT) == port), None)
                pkt = pkt.with_(inner=inner, vni=vni, icmp_type=None)
            iif = arrival.iface
            run.step(src.name, "originate", "info", f"{pkt.describe()} arrives on {iif} from {src_ip}, a host "
                     "outside the snapshot")
            out = self._guard(run, src.name, pkt, lambda: self._arrive(run, src, pkt.with_(iif=iif)))
        elif bridge is not None:
            run.first_src = str(src_ip)
            run.step(src.name, "originate", "info", f"{pkt.describe()} leaves a pod behind {bridge} on {src.name}")
            arriving = pkt.with_(iif=bridge)
            out = self._guard(run, src.name, pkt, lambda: self._receive(run, src, arriving))
        else:
            out = self._guard(run, src.name, pkt, lambda: self._originate(run, src, pkt))
        result = _result(run, out, src.name, pkt, 0)
        if out.disposition == "delivered" and proto in ("icmp", "tcp") and not one_way:
            fwd_steps, taints_from = len(run.steps), len(run.taints)
            d = out.pkt
            assert d.src is not None
            reply = Packet(
                src=d.dst, dst=d.src, proto=proto, sport=d.dport, dport=d.sport,
                icmp_type=ICMP_ECHO_REPLY if proto == "icmp" else None, size=d.size, ctstate="ESTABLISHED",
            )
            r = self.hosts[out.host]
            if out.local:
                rout = self._guard(run, r.name, reply, lambda: self._originate(run, r, reply))
            else:
                run.step(r.name, "reply", "info", f"reply {reply.describe()} from the container behind "
                         f"{out.deliver_dev}")
                rin = reply.with_(iif=out.deliver_dev)
                rout = self._guard(run, r.name, reply, lambda: self._receive(run, r, rin))
            reply_result = _result(run, rout, r.name, reply, taints_from, steps_from=fwd_steps)
            result.reply = reply_result
            # a reply that certainly fails decides the flow even when the request was only possibly delivered
            if reply_result.verdict == "unreachable" or (reply_result.verdict == "unknown"
                                                          and result.verdict == "reachable"):
                how = "fails" if reply_result.verdict == "unreachable" else "is undecided"
                arrives = "the request arrives but " if result.verdict == "reachable" else ""
                result.reason = f"{arrives}the reply {how}: {reply_result.reason}"
                result.verdict = reply_result.verdict
                result.disposition = reply_result.disposition
        result.share = run.share
        if run.forks:
            result.reason = (result.reason + "; branch: " + ", ".join(f.label for f in run.forks)).lstrip("; ")
        return result, run.forks

    def _guard(self, run: Run, host: str, pkt: Packet, fn: Callable[[], Outcome]) -> Outcome:
        try:
            out = fn()
        except TooManyHops:
            return Outcome("loop", "the packet visits more than 64 hops", host, pkt)
        return out

    # ------------------------------------------------------------------ stages

    def _originate(self, run: Run, h: HostIndex, pkt: Packet) -> Outcome:
        for note in h.host.assumptions:
            run.assume(h.name, "facts", note)
        run.step(h.name, "originate", "info", f"{pkt.describe()} leaves a local socket on {h.name}")
        dec = routing.lookup(run, h, pkt, None)
        fail = self._route_failure(run, h, pkt, dec)
        if fail:
            return fail
        if pkt.src is None:
            toward = dec.gateway or pkt.dst
            src = dec.prefsrc or (pkt.dst if dec.kind == "local" else h.primary_address(dec.dev, toward))
            if src is None:
                return self._end(run, h, pkt, "insufficient-info", f"no source address on {dec.dev}")
            pkt = pkt.with_(src=src)
        if run.first_src is None:
            run.first_src = str(pkt.src)
        pkt = pkt.with_(oif=dec.dev if dec.kind != "local" else "lo", iif=None)
        res = self._hook(run, h, "OUTPUT", pkt, dec)
        if res.verdict != "ACCEPT":
            return self._denied(run, h, pkt, res, "denied-out", "OUTPUT")
        if res.pkt.dst != pkt.dst or res.pkt.mark != pkt.mark:  # the kernel re-routes after DNAT or a new mark
            pkt = res.pkt
            dec = routing.lookup(run, h, pkt, None)
            fail = self._route_failure(run, h, pkt, dec)
            if fail:
                return fail
            pkt = pkt.with_(oif=dec.dev if dec.kind != "local" else "lo")
        else:
            pkt = res.pkt
        if dec.kind == "local":
            return self._input(run, h, pkt.with_(iif="lo", oif=None))
        return self._postrouting(run, h, pkt, dec)

    def _receive(self, run: Run, h: HostIndex, pkt: Packet) -> Outcome:
        for note in h.host.assumptions:
            run.assume(h.name, "facts", note)
        iif = pkt.iif or "?"
        if not run.visit(h.name, ipstr(pkt.dst), iif):
            return self._end(run, h, pkt, "loop", f"{pkt.describe()} came back to {h.name} on {iif}")
        run.step(h.name, "receive", "info", f"{pkt.describe()} arrives on {iif}")
        if pkt.ctstate != "NEW":
            orig = run.snat.get((h.name, ipstr(pkt.dst)))
            if orig:
                run.step(h.name, "conntrack", "nat", f"reply: reverse SNAT, destination {pkt.dst} -> {orig}")
                pkt = pkt.with_(dst=ip_address(orig))
            orig = run.dnat.get((h.name, ipstr(pkt.src))) if pkt.src is not None else None
            if orig:
                run.step(h.name, "conntrack", "nat", f"reply: reverse DNAT, source {pkt.src} -> {orig}")
                pkt = pkt.with_(src=ip_address(orig))
        res = self._hook(run, h, "PREROUTING", pkt, None)
        if res.verdict != "ACCEPT":
            return self._denied(run, h, pkt, res, "denied-in", "PREROUTING")
        pkt = res.pkt
        dec = routing.lookup(run, h, pkt, iif)
        if dec.kind != "local":
            fail = self._route_failure(run, h, pkt, dec)
            if fail:
                return fail
        else:
            run.step(h.name, "route", "forward", dec.detail, dec.consulted)
        rp = self._rp_filter(run, h, pkt, iif)
        if rp:
            return rp
        if dec.kind == "local":
            return self._input(run, h, pkt)
        fwd = h.sysctl_int("net.ipv4.ip_forward")
        if fwd == 0:
            key = f"{h.name}|ip_forward"
            detail = f"{h.name} does not forward (net.ipv4.ip_forward = 0)"
            ev = [h.sysctl_evidence("net.ipv4.ip_forward")]
            if not run.bypassed(key):
                return self._end(run, h, pkt, "denied-in", detail, ev, check=key)
            run.step(h.name, "forward", "info", f"{detail} (bypassed to look for further causes)", ev, key)
        if fwd is None:
            reason = f"{h.name}: net.ipv4.ip_forward not collected; forwarding assumed"
            run.taint("deny", reason)
            run.step(h.name, "forward", "unknown", reason)
        pkt = pkt.with_(oif=dec.dev)
        res = self._hook(run, h, "FORWARD", pkt, dec)
        if res.verdict != "ACCEPT":
            return self._denied(run, h, pkt, res, "denied-in", "FORWARD")
        return self._postrouting(run, h, res.pkt, dec)

    def _input(self, run: Run, h: HostIndex, pkt: Packet) -> Outcome:
        res = self._hook(run, h, "INPUT", pkt, None)
        if res.verdict != "ACCEPT":
            return self._denied(run, h, pkt, res, "denied-in", "INPUT")
        pkt = res.pkt
        if pkt.inner is not None:
            return self._decapsulate(run, h, pkt)
        if pkt.ctstate != "NEW":
            run.step(h.name, "deliver", "deliver",
                     f"reply delivered to the socket that sent the request ({ipstr(pkt.dst)})")
        else:
            port = f" port {pkt.dport}" if pkt.proto in ("tcp", "udp") else ""
            note = " (whether a process listens there is not in the bundle)" if port else ""
            run.step(h.name, "deliver", "deliver", f"delivered locally to {ipstr(pkt.dst)}{port} on {h.name}{note}")
        return Outcome("delivered", f"delivered to {ipstr(pkt.dst)} on {h.name}", h.name, pkt, local=True)

    def _postrouting(self, run: Run, h: HostIndex, pkt: Packet, dec: routing.RouteDecision) -> Outcome:
        if pkt.ctstate != "NEW" and pkt.src is not None:
            orig = run.dnat.get((h.name, ipstr(pkt.src)))
            if orig:
                run.step(h.name, "conntrack", "nat", f"reply: reverse DNAT, source {pkt.src} -> {orig}")
                pkt = pkt.with_(src=ip_address(orig))
        res = self._hook(run, h, "POSTROUTING", pkt, dec)
        if res.verdict != "ACCEPT":
            return self._denied(run, h, pkt, res, "denied-out", "POSTROUTING")
        return self._transmit(run, h, res.pkt, dec)

    def _transmit(self, run: Run, h: HostIndex, pkt: Packet, dec: routing.RouteDecision) -> Outcome:
        dev = dec.dev
        iface = h.iface(dev)
        nh = dec.gateway or pkt.dst
        if pkt.size and iface is not None and iface.mtu and pkt.size > iface.mtu:
            if pkt.inner is None:
                return self._end(run, h, pkt, "mtu-exceeded",
                                 f"{pkt.size}-byte packet with DF exceeds mtu {iface.mtu} of {dev} on {h.name} "
                                 "(the sender gets 'message too long' / frag needed)",
                                 [evidence(h.name, iface.src, iface.raw.splitlines()[0] if iface.raw else dev or "")])
            run.step(h.name, "fragment", "info", f"outer packet of {pkt.size} bytes fragmented to mtu {iface.mtu} "
                     f"of {dev} (VXLAN outer DF not set)")
            pkt = pkt.with_(size=iface.mtu)
        if dev in h.vxlan:
            return self._encapsulate(run, h, pkt, dec)
        n = h.neigh.get((dev or "", nh))
        if n is not None and FAILED_NEIGH & set(n.states):
            return self._end(run, h, pkt, "neighbour-unreachable",
                             f"{nh} on {dev}: neighbour entry {'/'.join(n.states)} (no ARP answer there)",
                             [evidence(h.name, n.src, n.raw)])
        chosen_net = dec.route.dst if dec.route is not None else None
        same_net = sorted({c.iface for c in h.connected_on.get(chosen_net, ()) if nh in c.network}) \
            if chosen_net is not None else []
        if len(same_net) > 1 and (n is None or not n.lladdr):
            reason = (f"{h.name}: {nh} is in a subnet on {', '.join(same_net)}; whether {dev} reaches it at L2 is "
                      "not in the bundle (no neighbour entry)")
            run.taint("deny", reason)
            run.step(h.name, "neighbour", "unknown", reason)
        owner = self.owner.get(nh)
        if owner is not None and owner[0] == h.name:
            owner = None
        if owner is None:
            if nh == pkt.dst and (h.is_bridge(dev) or (iface is not None and iface.master)):
                run.step(h.name, "deliver", "deliver", f"delivered to {ipstr(nh)} on bridge {dev} (a container; its "
                         "own state is not in the snapshot)")
                return Outcome("delivered", f"delivered to {ipstr(nh)} behind {dev} on {h.name}", h.name, pkt,
                               deliver_dev=dev)
            if self._cloud_port(run, h, dev):
                fail = self._security_group(run, h, "egress", pkt, pkt.dst)
                if fail:
                    return fail
            dest = self.owner.get(pkt.dst)
            if dest is not None and dest[0] != h.name and nh != pkt.dst:
                # the underlay routes to an analysed host through a gateway that is not analysed: go on there
                rname, rdev = dest
                run.assume(h.name, "transmit", f"the network behind gateway {ipstr(nh)} (not analysed) delivers "
                           f"{ipstr(pkt.dst)} to {rname} on {rdev}")
                return self._arrive_from_network(run, h, self.hosts[rname], rdev, pkt, dev, iface)
            where = f"via gateway {nh}" if nh != pkt.dst else "on the attached network"
            return self._end(run, h, pkt, "insufficient-info",
                             f"{pkt.dst} is reached {where} out of {dev}, which is not one of the analysed hosts")
        rname, rdev = owner
        r = self.hosts[rname]
        run.step(h.name, "transmit", "forward", f"out {dev} to next hop {ipstr(nh)} ({rname} {rdev})")
        if self._cloud_port(run, h, dev):
            fail = self._security_group(run, h, "egress", pkt, pkt.dst)
            if fail:
                return fail
        return self._arrive_from_network(run, h, r, rdev, pkt, dev, iface)

    def _lease_leak(self, h: HostIndex, pkt: Packet, dec: routing.RouteDecision) -> tuple[IPv4Network, str] | None:
        """(lease, owner) when a packet for another host's pod lease would leave by a default route that is not
        the overlay's (flannel installs one route per peer lease; without it pod traffic leaks to the underlay)."""
        if dec.route is None or not dec.route.is_default or (dec.dev or "") in h.vxlan or pkt.inner is not None:
            return None
        if not h.vxlan:
            return None  # a host without an overlay device: nothing of flannel's is missing here
        for lease, owner in self.leases:
            if owner != h.name and pkt.dst in lease:
                return lease, owner
        return None

    def _arrive_from_network(
        self, run: Run, h: HostIndex, r: HostIndex, rdev: str, pkt: Packet, dev: str | None, iface: Interface | None
    ) -> Outcome:
        """`pkt` sent by `h` out of `dev` reaches `r` on `rdev`: r's security group, its MTU, then r receives it."""
        rname = r.name
        if self._cloud_port(run, r, rdev):
            assert pkt.src is not None
            fail = self._security_group(run, r, "ingress", pkt, pkt.src)
            if fail:
                return fail
        riface = r.iface(rdev)
        if pkt.size and riface is not None and riface.mtu and pkt.size > riface.mtu:
            return self._end(run, r, pkt, "mtu-exceeded",
                             f"{pkt.size}-byte frame from {h.name} {dev} (mtu {iface.mtu if iface else '?'}) is "
                             f"larger than mtu {riface.mtu} of {rdev} on {rname}: dropped on receive",
                             [evidence(r.name, riface.src, riface.raw.splitlines()[0] if riface.raw else rdev)])
        return self._receive(run, r, pkt.with_(iif=rdev, oif=None))

    def _encapsulate(self, run: Run, h: HostIndex, pkt: Packet, dec: routing.RouteDecision) -> Outcome:
        dev = dec.dev or ""
        nh = dec.gateway or pkt.dst
        plan = self._encap_plans.get((h.name, dev, nh))
        if plan is not None:  # the same (host, device, next hop) was encapsulated before without assumptions
            dst, port, vni, local, consulted, detail = plan
            run.step(h.name, "vxlan encap", "encapsulate", detail, consulted)
            return self._originate(run, h, Packet(
                src=local, dst=dst, proto="udp", sport=EPHEMERAL_PORT, dport=port, icmp_type=None,
                size=pkt.size + VXLAN_OVERHEAD if pkt.size else None, inner=pkt, vni=vni))
        vx = h.vxlan[dev]
        n = h.neigh.get((dev, nh))
        lladdr = n.lladdr if n is not None and n.lladdr and not FAILED_NEIGH & set(n.states) else None
        assumed = lladdr is None
        owner = self._owner_vtep(h, nh, None)
        if lladdr is None:
            l3miss = dec.gateway is None  # flannel < 0.9: one route for the network, flanneld answers L3 misses
            if owner is not None and ("neighbours" not in h.facts or l3miss):
                why = (f"the neighbour table was not collected; flannel programs {ipstr(nh)} with {owner[0]}'s VTEP "
                       f"MAC before its onlink route" if "neighbours" not in h.facts else
                       f"{ipstr(nh)} has no neighbour entry and the route has no gateway (flannel < 0.9): flanneld "
                       f"answers the L3 miss with {owner[0]}'s VTEP MAC")
                run.assume(h.name, "neighbour", f"{h.name}: {why} ({owner[1]})")
                lladdr = owner[1]
            elif "neighbours" not in h.facts:
                return self._end(run, h, pkt, "insufficient-info",
                                 f"{h.name}: the neighbour table was not collected and no analysed host owns {nh}: "
                                 f"the peer's bundle (or `ip neigh show dev {dev}`) would decide")
            else:
                return self._end(run, h, pkt, "neighbour-unreachable",
                                 f"no usable neighbour entry for {nh} on {dev} (flannel installs one per peer lease)",
                                 [evidence(h.name, n.src, n.raw)] if n else [])
        fdbs = [f for f in h.fdb.get((dev, lladdr.lower()), []) if f.dst is not None]
        if not fdbs:
            by_mac = self._owner_vtep(h, None, lladdr)
            if by_mac is not None and by_mac[2] is not None and "fdb" not in h.facts:
                assumed = True
                run.assume(h.name, "fdb", f"{h.name}: bridge fdb was not collected; flannel programs {lladdr} dst "
                           f"{ipstr(by_mac[2])} ({by_mac[0]}'s VTEP)")
                fdbs = [FdbEntry(mac=lladdr, dev=dev, dst=by_mac[2], src=Provenance(file=""),
                                 raw=f"{lladdr} dev {dev} dst {by_mac[2]} (assumed)")]
            elif "fdb" not in h.facts:
                return self._end(run, h, pkt, "insufficient-info",
                                 f"{h.name}: bridge fdb was not collected and no analysed host's VTEP has MAC "
                                 f"{lladdr}: `bridge fdb show dev {dev}` would decide")
            else:
                return self._end(run, h, pkt, "neighbour-unreachable",
                                 f"no fdb entry for {lladdr} on {dev}: the peer VTEP is unknown",
                                 [evidence(h.name, n.src, n.raw)] if n else [])
        fdb = fdbs[0]
        assert fdb.dst is not None
        info = vx.vxlan
        consulted = ([evidence(h.name, n.src, n.raw)] if n else []) + [evidence(h.name, fdb.src, fdb.raw)]
        if info is None:
            reason = f"{h.name}: VXLAN details of {dev} not collected (ip -d link); port and VNI assumed"
            run.taint("deny", reason)
            port, vni, local = DEFAULT_VXLAN_PORT, 1, None
        else:
            port, vni, local = info.dstport or DEFAULT_VXLAN_PORT, info.vni, info.local
            consulted.append(evidence(h.name, info.src, f"{dev}: vxlan id {vni} local {local} dstport {port}"))
        outer = Packet(src=local, dst=fdb.dst, proto="udp", sport=EPHEMERAL_PORT, dport=port, icmp_type=None,
                       size=pkt.size + VXLAN_OVERHEAD if pkt.size else None, inner=pkt, vni=vni)
        detail = (f"{dev}: {ipstr(nh)} lladdr {lladdr} -> fdb dst {ipstr(fdb.dst)}; outer udp "
                  f"{ipstr(local) if local else '?'} -> {ipstr(fdb.dst)}:{port} vni {vni}")
        run.step(h.name, "vxlan encap", "encapsulate", detail, consulted)
        if not assumed and info is not None:  # nothing was assumed (no taint): the same for every packet
            self._encap_plans[(h.name, dev, nh)] = (fdb.dst, port, vni, local, consulted, detail)
        return self._originate(run, h, outer)

    def _owner_vtep(self, h: HostIndex, nh: IPAddress | None, mac: str | None
                    ) -> tuple[str, str, IPAddress | None] | None:
        """(host, VTEP MAC, VTEP address) of the analysed host whose VXLAN device owns `nh` (its flannel.1 address,
        or a pod address in its bridge's network), or whose VXLAN device has MAC `mac`."""
        for name, idx in self.hosts.items():
            if name == h.name:
                continue
            for iface in idx.vxlan.values():
                if not iface.mac:
                    continue
                if mac is not None and iface.mac.lower() != mac.lower():
                    continue
                if nh is not None:
                    owns = any(a.address.ip == nh for a in iface.addresses) or any(
                        nh in c.network for c in idx.connected if idx.is_bridge(c.iface))
                    if not owns:
                        continue
                local = iface.vxlan.local if iface.vxlan is not None else None
                return name, iface.mac.lower(), local
        return None

    def _decapsulate(self, run: Run, h: HostIndex, pkt: Packet) -> Outcome:
        inner = pkt.inner
        assert inner is not None
        key = (h.name, pkt.dport, pkt.vni)
        plan = self._decap_plans.get(key)
        if plan is not None:
            name, ev, detail = plan
            run.step(h.name, "vxlan decap", "decapsulate", detail, ev)
            return self._receive(run, h, inner.with_(iif=name, oif=None))
        for name, iface in h.vxlan.items():
            info = iface.vxlan
            port = (info.dstport or DEFAULT_VXLAN_PORT) if info else DEFAULT_VXLAN_PORT
            if port == pkt.dport and (info is None or info.vni == pkt.vni):
                ev = [evidence(h.name, info.src, f"{name}: vxlan id {info.vni} dstport {port}")] if info else []
                detail = f"udp {pkt.dport} vni {pkt.vni} -> {name}"
                self._decap_plans[key] = (name, ev, detail)
                run.step(h.name, "vxlan decap", "decapsulate", detail, ev)
                return self._receive(run, h, inner.with_(iif=name, oif=None))
        return self._end(run, h, pkt, "denied-in",
                         f"no VXLAN device on {h.name} listens on udp {pkt.dport} with vni {pkt.vni} "
                         "(the kernel answers ICMP port unreachable)", check=f"{h.name}|decap|{pkt.dport}|{pkt.vni}")

    # ------------------------------------------------------------------ checks

    def _hook(self, run: Run, h: HostIndex, hook: str, pkt: Packet, dec: routing.RouteDecision | None) -> HookResult:
        def masq_source(p: Packet) -> IPv4Address | None:
            return h.primary_address(p.oif, dec.gateway or p.dst if dec else p.dst)

        res = self.netfilters[h.name].hook(run, hook, pkt, masq_source)
        if res.verdict == "ACCEPT" and res.pkt is not pkt:  # the same object when nothing rewrote it
            if res.pkt.src != pkt.src and res.pkt.src is not None and pkt.src is not None:
                run.snat[(h.name, str(res.pkt.src))] = str(pkt.src)
            if res.pkt.dst != pkt.dst:
                run.dnat[(h.name, str(res.pkt.dst))] = str(pkt.dst)
        return res

    def _route_failure(self, run: Run, h: HostIndex, pkt: Packet, dec: routing.RouteDecision) -> Outcome | None:
        if dec.kind in ("unicast", "local"):
            if dec.kind == "unicast":
                leak = self._lease_leak(h, pkt, dec)
                if leak is not None:
                    lease, owner = leak
                    detail = (f"{h.name}: missing peer route: {ipstr(pkt.dst)} is in {owner}'s pod lease {lease} but "
                              f"{h.name} has no route for it via the overlay; it would leave by the default route "
                              f"({dec.detail})")
                    return self._end(run, h, pkt, "no-route", detail, dec.consulted,
                                     check=f"{h.name}|peer-route|{lease}")
                run.step(h.name, "route", "forward", dec.detail, dec.consulted)
            return None
        if dec.kind == "none":
            return self._end(run, h, pkt, "no-route", f"{h.name}: {dec.detail}", dec.consulted)
        if dec.kind == "blackhole":
            return self._end(run, h, pkt, "null-routed", f"{h.name}: {dec.detail}", dec.consulted)
        if dec.kind in ("unreachable", "prohibit"):
            return self._end(run, h, pkt, "no-route", f"{h.name}: {dec.detail}", dec.consulted)
        return self._end(run, h, pkt, "insufficient-info", f"{h.name}: {dec.detail}", dec.consulted)

    def _rp_filter(self, run: Run, h: HostIndex, pkt: Packet, iif: str) -> Outcome | None:
        if pkt.src is None or iif == "lo":
            return None
        key = f"{h.name}|rp_filter|{iif}"
        mode, values = h.rp_filter(iif)
        if not mode:
            return None
        back = routing.lookup(run, h, Packet(src=pkt.dst, dst=pkt.src, proto=pkt.proto, mark=pkt.mark), None,
                              record=False)
        if (back.kind == "unicast" or back.kind == "local") and (mode != 1 or back.dev == iif):
            return None
        ev = [h.sysctl_evidence("net.ipv4.conf.all.rp_filter"), *back.consulted[:2]]
        if back.kind != "unicast" and back.kind != "local":
            detail = f"rp_filter ({values}) drops it: no route back to {pkt.src} on {h.name}"
        else:
            detail = (f"strict rp_filter ({values}) drops it: it arrived on {iif} but the best route back to "
                      f"{pkt.src} leaves via {back.dev}")
        if run.bypassed(key):
            run.step(h.name, "rp_filter", "info", f"{detail} (bypassed to look for further causes)", ev, key)
            return None
        return self._end(run, h, pkt, "denied-in", detail, ev, check=key)

    def _cloud_port(self, run: Run, h: HostIndex, dev: str | None) -> bool:
        """Whether a security group can stop packets crossing `dev` of `h`: a physical NIC of a host with cloud
        evidence or a security-group export. Without either, none is assumed, and the run says so."""
        if not h.is_physical_port(dev):
            return False
        sg = self.security_groups
        if h.cloud is not None or sg.for_host(h.name) is not None or sg.default != "unknown":
            return True
        run.assume(h.name, "security group", f"{h.name}: {NO_CLOUD}: no security group in front of {dev}")
        return False

    def _security_group(
        self, run: Run, h: HostIndex, direction: Direction, pkt: Packet, remote: IPAddress
    ) -> Outcome | None:
        stage = f"security group {direction}"
        sets = self.security_groups.for_host(h.name)
        if pkt.ctstate != "NEW" and (sets is None or all(s.stateful for s in sets)):
            if sets is not None or self.security_groups.default == "unknown":
                run.step(h.name, stage, "permit", "reply of an allowed flow: security groups are stateful")
            return None
        port = pkt.dport if pkt.proto in ("tcp", "udp") else None
        if sets is None:
            if self.security_groups.default == "open":
                return None
            need = required_rule(direction, pkt.proto, port, str(remote))
            reason = f"{h.name}: no security-group export; it passes only if {h.name}'s group has: {need}"
            run.taint("deny", reason, f"{h.name}|sg|{direction}|{pkt.proto}|{port or ''}")
            run.step(h.name, stage, "unknown", reason)
            return None
        dec = evaluate(sets, direction, pkt.proto, port, str(remote), icmp_type=pkt.icmp_type,
                       groups=self.security_groups, host_of_ip=self.host_of_ip)
        ev = [evidence(h.name, r.src, r.describe()) for r in dec.consulted]
        if not ev:
            ev = [Evidence(host=h.name, file=s.file, text=f"{s.provider} export, groups {', '.join(s.groups)}")
                  for s in sets]
        if dec.allowed is True:
            run.step(h.name, stage, "permit", dec.reason, ev)
            return None
        if dec.allowed is None:
            run.taint("deny", f"{h.name}: {dec.reason}", f"{h.name}|sg|{direction}|{pkt.proto}|{port or ''}")
            run.step(h.name, stage, "unknown", dec.reason, ev)
            return None
        disp: Disposition = "denied-out" if direction == "egress" else "denied-in"
        key = f"{h.name}|sg|{direction}|{pkt.proto}|{port or ''}"
        detail = f"{h.name} security group {direction}: {dec.reason}"
        if run.bypassed(key):
            run.step(h.name, stage, "info", f"{detail} (bypassed to look for further causes)", ev, key)
            return None
        return self._end(run, h, pkt, disp, detail, ev, check=key)

    def _denied(self, run: Run, h: HostIndex, pkt: Packet, res: HookResult, disp: Disposition, hook: str) -> Outcome:
        how = f"rejected ({res.reject_with})" if res.verdict == "REJECT" else "dropped"
        return Outcome(disp, f"{h.name} {hook}: {how}: {res.detail}", h.name, pkt, consulted=res.consulted)

    def _end(
        self, run: Run, h: HostIndex, pkt: Packet, disp: Disposition, reason: str,
        consulted: list[Evidence] | None = None, check: str = "",
    ) -> Outcome:
        action: StepAction = "unknown" if disp == "insufficient-info" else "deny"
        run.step(h.name, disp, action, reason, consulted or [], check or f"{h.name}|{disp}|{ipstr(pkt.dst)}",
                 pkt.info() if action == "deny" else None)
        return Outcome(disp, reason, h.name, pkt, consulted=consulted or [])


def _result(
    run: Run, out: Outcome, src_host: str, pkt: Packet, taint_from: int, steps_from: int = 0
) -> TraceResult:
    taints = run.taints[taint_from:]
    verdict: Verdict
    disposition: Disposition = out.disposition
    reason = out.reason
    if out.disposition == "delivered":
        doubts = [t.reason for t in taints if t.could == "deny"]
        if doubts:
            verdict, disposition = "unknown", "insufficient-info"
            reason = f"{out.reason}, but only if: " + "; ".join(doubts)
        else:
            verdict = "reachable"
    elif out.disposition == "insufficient-info":
        verdict = "unknown"
    else:
        doubts = [t.reason for t in taints if t.could == "pass"]
        if doubts:
            verdict = "unknown"
            reason = f"{out.reason}; undecided: " + "; ".join(doubts)
        else:
            verdict = "unreachable"
    src_ip = run.first_src if taint_from == 0 and steps_from == 0 else (str(pkt.src) if pkt.src else None)
    return TraceResult(
        src_host=src_host, src_ip=src_ip, dst_ip=str(pkt.dst), proto=pkt.proto,
        port=pkt.dport if pkt.proto != "icmp" else None, size=pkt.size, verdict=verdict, disposition=disposition,
        reason=reason, hops=list(run.steps[steps_from:]), assumptions=list(run.assumptions),
        doubts=[Doubt(could="deny" if t.could == "deny" else "pass", reason=t.reason, check=t.check)
                for t in taints],
    )


def _combine(leaves: list[TraceResult], truncated: bool) -> TraceResult:
    verdicts = {leaf.verdict for leaf in leaves}
    ok = sum(leaf.share for leaf in leaves if leaf.verdict == "reachable")
    failing = [leaf for leaf in leaves if leaf.verdict != "reachable"]
    verdict: Verdict
    if verdicts == {"reachable"} and not truncated:
        verdict, disposition, reason = "reachable", "delivered", f"all {len(leaves)} branches are delivered"
    elif "unreachable" in verdicts:
        worst = max((leaf for leaf in failing if leaf.verdict == "unreachable"), key=lambda x: x.share)
        verdict, disposition = "unreachable", worst.disposition
        reason = f"{ok:.0%} of the traffic is delivered; {1 - ok:.0%} fails ({worst.reason})"
    else:
        worst = max(failing, key=lambda x: x.share) if failing else leaves[0]
        verdict, disposition = "unknown", worst.disposition if failing else "insufficient-info"
        reason = f"{ok:.0%} of the traffic is certainly delivered; the rest is undecided ({worst.reason})"
    if truncated:
        reason += f"; only the first {len(leaves)} branches were explored"
        if verdict == "reachable":
            verdict, disposition = "unknown", "insufficient-info"
    first = leaves[0]
    return TraceResult(
        src_host=first.src_host, src_ip=first.src_ip, dst_ip=first.dst_ip, proto=first.proto, port=first.port,
        size=first.size, verdict=verdict, disposition=disposition, reason=reason, hops=first.hops,
        branches=leaves, assumptions=list(dict.fromkeys(a for leaf in leaves for a in leaf.assumptions)),
        doubts=list({d.reason: d for leaf in leaves for d in leaf.doubts}.values()),
    )


def trace(
    snapshot: Snapshot,
    src_host: str,
    dst_ip: str,
    proto: str = "icmp",
    port: int | None = None,
    security_groups: SecurityGroups | None = None,
    size: int | None = None,
) -> TraceResult:
    """One-shot trace (builds the indexes; use TraceEngine for many queries)."""
    return TraceEngine(snapshot, security_groups).trace(src_host, dst_ip, proto, port, size)
