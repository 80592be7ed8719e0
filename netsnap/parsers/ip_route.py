r"""`ip route show table all` -> Parsed[Route] with origin "ip-route".

Keywords are read with a grammar of known arity (`dev X`, `via [inet|inet6] X`, `proto X`,
`scope X`, `src X`, `metric N`, `table T`, ...) and bare flags (`onlink`, `linkdown`, `dead`, ...),
so a flag in mid-line never shifts the pairs that follow it (the insights-core pitfall). Unknown
words go to `extra`: followed by a known keyword or the end of the line they are a flag (value
""), otherwise a pair. `default` is 0.0.0.0/0 or ::/0 by the line's address family (its addresses,
an IPv6-only keyword such as `pref`; if other lines carry `pref`, as modern iproute2 prints on
every IPv6 route, a line without it is IPv4; else the previous route's family). A prefix without a length
is a host route. A route line directly followed by indented `nexthop` lines (tab or spaces)
becomes one Route with `nexthops`. `expected` is the number of non-blank lines that are not `nexthop` lines.

Route cache entries are not routes of any table (PMTU and redirect exceptions, `ip route get`
results): a line followed by an indented `cache ...` line (or holding `\    cache` in `ip -o` form),
and every line after a pasted prompt `ip route show cache` / `ip route get X`, is understood but not
made a Route; a note counts them. A pasted `ip -6 route` prompt makes `default` ::/0.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any, Literal, cast

from netsnap.bundle.paste import scan
from netsnap.model.base import Parsed, Provenance
from netsnap.model.routes import IPAddress, IPNetwork, NextHop, Route, RouteType
from netsnap.parsers.records import LineError, account, counted_lines, never_raises, read_records, validated
from netsnap.parsers.ttp_runner import run_template

SOURCE = "ip_route"
ROUTE_TYPES: frozenset[str] = frozenset(
    {"unicast", "local", "broadcast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "nat", "anycast"}
)
# keywords followed by exactly one value (mtu/window/... may carry a `lock` word first)
ONE_VALUE: frozenset[str] = frozenset({
    "via", "dev", "proto", "scope", "src", "metric", "table", "tos", "dsfield", "realm", "realms", "mtu",
    "advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "initcwnd", "initrwnd", "ssthresh", "features",
    "quickack", "congctl", "pref", "expires", "hoplimit", "nhid", "from", "error", "weight", "fastopen_no_cookie",
    "rto_min", "ttl-propagate", "preference", "priority", "age", "users", "used", "iif", "mark",
})
LOCKABLE: frozenset[str] = frozenset({
    "mtu", "advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "initcwnd", "initrwnd", "ssthresh", "rto_min",
    "congctl",
})
FLAGS: frozenset[str] = frozenset({
    "onlink", "linkdown", "dead", "pervasive", "offload", "trap", "notify", "rt_offload", "rt_trap",
    "rt_offload_failed", "cache", "lock",
})
IPV6_ONLY: frozenset[str] = frozenset({"pref", "expires", "hoplimit"})
KNOWN: frozenset[str] = ONE_VALUE | FLAGS | frozenset({"nexthop", "encap"})
Family = Literal[4, 6]


def read_words(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split keyword words into (key -> value, bare flags), by known arity.

    `via inet6 X` keeps X (and via_family = "inet6"); `mtu lock 1400` gives mtu = "lock 1400";
    `encap ...` takes the rest of the line as one value. Unknown words are flags when followed by a
    known keyword or nothing.
    """
    values: dict[str, str] = {}
    flags: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if word == "encap":
            values["encap"] = " ".join(words[i + 1:])
            break
        if word in ONE_VALUE and nxt is not None:
            if word == "via" and nxt in ("inet", "inet6") and i + 2 < len(words):
                values[word] = words[i + 2]
                values["via_family"] = nxt
                i += 3
                continue
            if word in LOCKABLE and nxt == "lock" and i + 2 < len(words):
                values[word] = f"lock {words[i + 2]}"
                i += 3
                continue
            values[word] = nxt
            i += 2
            continue
        if word in FLAGS or word in ONE_VALUE or nxt is None or nxt in KNOWN:
            flags.append(word)
            i += 1
            continue
        values[word] = nxt
        i += 2
    return values, flags


def _family(dst: str, values: dict[str, str], previous: Family, pref_seen: bool) -> Family:
    if "via_family" in values:  # iproute2 names the gateway family only when it differs (RFC 5549)
        return 4 if values["via_family"] == "inet6" else 6
    for text in (dst, values.get("via", ""), values.get("src", ""), values.get("from", "")):
        if ":" in text:
            return 6
        if "." in text:
            return 4
    if IPV6_ONLY & values.keys():
        return 6
    if pref_seen:
        return 4  # this iproute2 prints `pref` on every IPv6 route, and this line has none
    return previous


def _network(dst: str, family: Family) -> IPNetwork:
    if dst == "default":
        return IPv6Network("::/0") if family == 6 else IPv4Network("0.0.0.0/0")
    return ip_network(dst, strict=False)


def _nexthop(rest: str, extra: dict[str, str], index: int) -> NextHop:
    values, flags = read_words(rest.split())
    known = {"via", "dev", "weight"}
    gateway = ip_address(values["via"]) if "via" in values else None
    weight = int(values.get("weight", "1"))
    for key, value in values.items():
        if key not in known:
            extra[f"nexthop{index}.{key}"] = value
    for flag in flags:
        if flag not in ("onlink", "dead", "linkdown"):
            extra[f"nexthop{index}.{flag}"] = ""
    return NextHop(gateway=gateway, dev=values.get("dev"), weight=weight, onlink="onlink" in flags,
                   dead="dead" in flags, linkdown="linkdown" in flags)


def _own_nexthops(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """The `nexthop` lines directly under the route line; TTP also attaches ones further down
    (after a line it did not match), which belong to no route."""
    own: list[dict[str, Any]] = []
    last = int(rec["ln"])
    for nh in rec.get("nexthops", []):
        if int(nh["nh_ln"]) != last + 1:
            break
        own.append(nh)
        last += 1
    return own


def _route(rec: dict[str, Any], line: str, file: str, family: Family, pref_seen: bool) -> tuple[Route, Family]:
    ln = int(rec["ln"])
    rtype = str(rec.get("rtype") or "unicast")
    dst_text = str(rec["dst"])
    values, flags = read_words(str(rec.get("rest", "")).split())
    fam = _family(dst_text, values, family, pref_seen)
    extra: dict[str, str] = {}
    nexthops: list[NextHop] = []
    try:
        dst = _network(dst_text, fam)
        gateway: IPAddress | None = ip_address(values.pop("via")) if "via" in values else None
        prefsrc: IPAddress | None = ip_address(values.pop("src")) if "src" in values else None
        metric = int(values.pop("metric", "0"))
        for index, nh in enumerate(_own_nexthops(rec), start=1):
            nexthops.append(_nexthop(str(nh.get("nh_rest", "")), extra, index))
    except (ValueError, TypeError) as exc:
        raise LineError(f"line {ln}: {exc}") from exc
    dev = values.pop("dev", None)
    table = values.pop("table", "main")
    proto = values.pop("proto", None)
    scope = values.pop("scope", None)
    extra.update(values)
    extra.update({f: "" for f in flags if f not in ("onlink", "linkdown", "dead")})
    route = validated(ln, lambda: Route(
        src=Provenance(file=file, line=ln), raw=line, origin="ip-route", table=table,
        type=cast(RouteType, rtype), dst=dst, gateway=gateway, dev=dev, proto=proto, scope=scope,
        prefsrc=prefsrc, metric=metric, onlink="onlink" in flags, linkdown="linkdown" in flags,
        dead="dead" in flags, nexthops=nexthops, extra=extra,
    ))
    return route, dst.version


@never_raises(Parsed[Route], SOURCE)
def parse(text: str, file: str) -> Parsed[Route]:
    """Parse `ip route show table all`; never raises."""
    result: Parsed[Route] = Parsed[Route](source=SOURCE, file=file)
    records, _, lines = run_template(SOURCE, text, "routes")
    commands, _noise = scan(lines)
    family: Family = 6 if any(c.has("-6") for c in commands.values()) else 4
    pref_seen = any(" pref " in f" {line} " for line in lines)
    nexthop_lines: set[int] = set()

    def build(rec: dict[str, Any], line: str) -> Route:
        nonlocal family
        route, family = _route(rec, line, file, family, pref_seen)
        nexthop_lines.update(int(nh["nh_ln"]) for nh in _own_nexthops(rec))
        return route

    # a bare type word with no prefix is not a route
    routes = [r for r in records if not (r.get("rtype") is None and r.get("dst") in ROUTE_TYPES)]
    cached, cache_lines = _cache_entries(lines)
    if cached:
        routes = [r for r in routes if int(r["ln"]) not in cached]
        result.notes.append(f"{len(cached)} route cache entr{'y' if len(cached) == 1 else 'ies'} (exceptions or "
                            "`ip route get` results, not routes of a table) left out")
    consumed = read_records(result, routes, lines, build) | nexthop_lines | cached | cache_lines
    expected = counted_lines(lines, lambda line: line.split()[0] != "nexthop", skip=cached | cache_lines)
    return account(result, lines, consumed, expected, "route lines", "routes")


def _cache_entries(lines: list[str]) -> tuple[set[int], set[int]]:
    """(route cache entry lines, their `cache ...` sub-lines), 1-based (see the module docstring)."""
    commands, _noise = scan(lines)
    entries: set[int] = set()
    subs: set[int] = set()
    in_cache = False
    for i, line in enumerate(lines, start=1):
        if i in commands:
            words = [w for w in commands[i].words if not w.startswith("-")]
            in_cache = "cache" in words or "get" in words
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if line[:1].isspace() and stripped.split()[0] == "cache":
            subs.add(i)
            if i > 1 and lines[i - 2].strip():
                entries.add(i - 1)
        elif in_cache or "\\    cache" in line or " \\ cache" in line:
            entries.add(i)
    return entries, subs
