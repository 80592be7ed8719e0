"""Route selection as the kernel does it: policy rules by priority, then per table the longest
prefix, the lowest metric, the first of equal routes (ties reported); multipath routes and equal
default routes through different gateways fork the trace (the kernel picks one per flow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from netsnap.model.evidence import Evidence
from netsnap.model.routes import PolicyRule, Route
from netsnap.trace.index import HostIndex, evidence
from netsnap.trace.packet import Packet
from netsnap.trace.run import Run

IPAddress = IPv4Address | IPv6Address
FAIL_TYPES = frozenset({"blackhole", "unreachable", "prohibit"})


@dataclass
class RouteDecision:
    """`kind`: unicast, local, blackhole, unreachable, prohibit, or none (no route at all)."""

    kind: str
    table: str = ""
    route: Route | None = None
    dev: str | None = None
    gateway: IPAddress | None = None
    onlink: bool = False
    prefsrc: IPAddress | None = None
    detail: str = ""
    consulted: list[Evidence] = field(default_factory=list)


def route_text(route: Route) -> str:
    return route.raw or f"{route.type} {route.dst} via {route.gateway} dev {route.dev} table {route.table}"


def _mark_match(spec: str, mark: int) -> bool:
    value_s, _, mask_s = spec.partition("/")
    try:
        value = int(value_s, 0)
        mask = int(mask_s, 0) if mask_s else 0xFFFFFFFF
    except ValueError:
        return False
    return (mark & mask) == value


def _rule_matches(rule: PolicyRule, pkt: Packet, iif: str | None) -> bool:
    ok = True
    if rule.from_net is not None and rule.from_net.prefixlen > 0:
        ok = pkt.src is not None and pkt.src in rule.from_net
    if ok and rule.to_net is not None and rule.to_net.prefixlen > 0:
        ok = pkt.dst in rule.to_net
    if ok and rule.iif is not None:
        ok = rule.iif == (iif or "lo")
    if ok and rule.oif is not None:
        ok = pkt.oif == rule.oif
    if ok and rule.fwmark is not None:
        ok = _mark_match(rule.fwmark, pkt.mark)
    return not ok if rule.invert else ok


def lookup(run: Run, hidx: HostIndex, pkt: Packet, iif: str | None, *, record: bool = True) -> RouteDecision:
    """Select the route for `pkt` (arriving on `iif`, or locally generated when None).

    Decisions that did not fork are memoised per host: routing is a pure function of these keys.
    """
    key: tuple[object, ...]
    if not hidx.policy:  # the default policy: the decision depends on the destination only
        key = (int(pkt.dst), record) if type(pkt.dst) is IPv4Address else (pkt.dst, record)
    else:
        key = (pkt.dst, pkt.src, iif, pkt.oif, pkt.mark, record)
    cached: RouteDecision | None = hidx.route_cache.get(key)
    if cached is not None:
        return cached
    forks = len(run.forks)
    decision = _lookup(run, hidx, pkt, iif, record)
    if len(run.forks) == forks:
        if len(hidx.route_cache) > 100_000:
            hidx.route_cache.clear()
        hidx.route_cache[key] = decision
    return decision


def _lookup(run: Run, hidx: HostIndex, pkt: Packet, iif: str | None, record: bool) -> RouteDecision:
    host = hidx.name
    policy = hidx.policy_plan
    i = 0
    while i < len(policy):
        prio, rule, table = policy[i]
        i += 1
        if rule is not None:
            if not _rule_matches(rule, pkt, iif):
                continue
            if rule.action in FAIL_TYPES:
                return RouteDecision(rule.action, detail=f"policy rule {prio}: {rule.action}",
                                     consulted=[evidence(host, rule.src, rule.raw)])
            if rule.action == "nop":
                continue
            if rule.action == "goto":
                try:
                    target = int(rule.extra.get("goto", "0") or 0)
                except ValueError:
                    target = 0
                while i < len(policy) and policy[i][0] < target:
                    i += 1
                continue
        rt = hidx.tables.get(table)
        if rt is None:
            continue
        found = rt.lookup(pkt.dst)
        if not found:
            continue
        # what follows depends only on the table's matched routes and the rule that selected the table, so
        # decisions that did not fork are memoised per (rule, route list) and shared by every destination
        memo_key = (i, id(found), record)
        memo: RouteDecision | None = hidx.decision_cache.get(memo_key)
        if memo is not None:
            if memo.kind == "throw":
                continue
            return memo
        cands = [r for r in found if not r.dead]
        if not cands:
            continue
        best_metric = min(r.metric for r in cands)
        best = [r for r in cands if r.metric == best_metric]
        first = best[0]
        if first.type == "throw":
            hidx.decision_cache[memo_key] = RouteDecision("throw")
            continue
        consulted = [evidence(host, r.src, route_text(r)) for r in best]
        if rule is not None:
            consulted.insert(0, evidence(host, rule.src, rule.raw))
        forks = len(run.forks)
        decision = _decide(run, hidx, first, best, table, consulted, record)
        if len(run.forks) == forks:
            hidx.decision_cache[memo_key] = decision
        return decision
    return RouteDecision("none", detail=f"no route to {pkt.dst} in any table the policy rules select")


def _decide(
    run: Run, hidx: HostIndex, first: Route, best: list[Route], table: str, consulted: list[Evidence], record: bool
) -> RouteDecision:
    tie = ""
    chosen = first
    if len(best) > 1:
        others = ", ".join(f"{r.gateway or 'direct'} dev {r.dev}" for r in best[1:])
        distinct = {(r.gateway, r.dev) for r in best}
        if first.is_default and first.type == "unicast" and len(distinct) > 1 and record:
            n = len(best)
            k = run.choose([(1.0 / n, f"default via {r.gateway} dev {r.dev}") for r in best])
            chosen = best[k]
            tie = (f"; {n} equal default routes ({', '.join(f'{r.gateway} dev {r.dev}' for r in best)}): the kernel "
                   f"picks one by neighbour state, this branch takes {chosen.gateway} dev {chosen.dev}")
        else:
            tie = f"; tie with {len(best) - 1} equal route(s) ({others}): the first listed wins"
    if chosen.type == "local" or chosen.type == "broadcast":
        return RouteDecision("local", table, chosen, chosen.dev, None, False, chosen.prefsrc,
                             f"local {chosen.dst} (table {table})", consulted)
    if chosen.type in FAIL_TYPES:
        return RouteDecision(chosen.type, table, chosen, chosen.dev, detail=f"{chosen.type} {chosen.dst} "
                             f"(table {table}){tie}", consulted=consulted)
    if chosen.type != "unicast":
        return RouteDecision("unknown", table, chosen, chosen.dev, detail=f"route type {chosen.type} not simulated",
                             consulted=consulted)
    dev, gateway, onlink = chosen.dev, chosen.gateway, chosen.onlink
    if chosen.nexthops:
        live = [nh for nh in chosen.nexthops if not nh.dead]
        if not live:
            return RouteDecision("unreachable", table, chosen, detail="all nexthops dead", consulted=consulted)
        total = sum(nh.weight for nh in live) or 1
        k = run.choose([(nh.weight / total, f"nexthop via {nh.gateway} dev {nh.dev}") for nh in live]) if record \
            else 0
        nh = live[k]
        dev, gateway, onlink = nh.dev, nh.gateway, nh.onlink
        tie += f"; multipath: this branch takes nexthop via {gateway} dev {dev} (weight {nh.weight}/{total})"
    if dev is None and gateway is not None:
        for c in hidx.connected:
            if gateway in c.network:
                dev = c.iface
                break
    how = f"via {gateway}" if gateway else "directly connected"
    detail = f"{chosen.dst} {how} dev {dev}{' onlink' if onlink else ''} (table {table}, metric {chosen.metric}){tie}"
    return RouteDecision("unicast", table, chosen, dev, gateway, onlink, chosen.prefsrc, detail, consulted)
