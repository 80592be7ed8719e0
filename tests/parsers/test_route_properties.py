"""Property tests: generated route tables rendered to `route -n` and `ip route` text parse back to
the same routes; random text and bytes never make any of the route/link/neighbour parsers raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.model.base import Parsed
from netsnap.parsers import (
    bridge_fdb,
    ip_addr,
    ip_link_stats,
    ip_neigh,
    ip_route,
    ip_rule,
    proc_net_route,
    route_n,
)

DEVS = st.from_regex(r"[a-z][a-z0-9]{0,6}(\.[0-9]{1,3})?", fullmatch=True)


@dataclass(frozen=True)
class GenRoute:
    dst: IPv4Network | IPv6Network
    gateway: IPv4Address | IPv6Address | None
    dev: str | None
    metric: int
    type: str
    table: str


@st.composite
def v4_routes(draw: st.DrawFn) -> GenRoute:
    prefixlen = draw(st.integers(0, 32))
    net = IPv4Network((draw(st.integers(0, 2**32 - 1)), prefixlen), strict=False)
    reject = draw(st.booleans()) and draw(st.booleans())
    gateway = None if reject or draw(st.booleans()) else IPv4Address(draw(st.integers(1, 2**32 - 1)))
    return GenRoute(net, gateway, None if reject else draw(DEVS), draw(st.integers(0, 2**31 - 1)),
                    "unreachable" if reject else "unicast", "main")


ROUTE_N_HEADER = ("Kernel IP routing table\n"
                  "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n")


def render_route_n(routes: list[GenRoute]) -> str:
    lines = []
    for r in routes:
        assert isinstance(r.dst, IPv4Network)
        if r.type == "unreachable":
            lines.append(f"{r.dst.network_address!s:<15} {'-':<15} {r.dst.netmask!s:<15} !     {r.metric:<6} -  0 -")
            continue
        flags = "U" + ("G" if r.gateway else "") + ("H" if r.dst.prefixlen == 32 else "")
        gw = str(r.gateway) if r.gateway else "0.0.0.0"
        lines.append(
            f"{r.dst.network_address!s:<15} {gw:<15} {r.dst.netmask!s:<15} {flags:<5} {r.metric:<6} 0 0 {r.dev}")
    return ROUTE_N_HEADER + "\n".join(lines) + "\n"


def key(route: Any) -> tuple[str, str, str | None, int, str, str]:
    return (str(route.dst), str(route.gateway), route.dev, route.metric, route.type, route.table)


@settings(max_examples=60, deadline=None)
@given(st.lists(v4_routes(), max_size=25))
def test_route_n_round_trip(routes: list[GenRoute]) -> None:
    parsed = route_n.parse(render_route_n(routes), "route-n")
    assert [key(r) for r in parsed.items] == [key(r) for r in routes]
    assert parsed.expected == len(routes)
    assert parsed.unparsed == []


TYPES = ["unicast", "local", "broadcast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "anycast"]


@st.composite
def ip_routes(draw: st.DrawFn) -> GenRoute:
    v6 = draw(st.booleans())
    bits = 128 if v6 else 32
    net_type = IPv6Network if v6 else IPv4Network
    net = net_type((draw(st.integers(0, 2**bits - 1)), draw(st.integers(0, bits))), strict=False)
    rtype = draw(st.sampled_from(TYPES))
    if v6 and rtype == "broadcast":
        rtype = "unicast"
    carries_dev = rtype not in ("blackhole", "unreachable", "prohibit", "throw")
    gateway = None
    if carries_dev and draw(st.booleans()):
        gateway = IPv6Address(draw(st.integers(1, 2**128 - 1))) if v6 else IPv4Address(draw(st.integers(1, 2**32 - 1)))
    table = draw(st.sampled_from(["main", "local", "default", "100", "254", "custom_t"]))
    return GenRoute(net, gateway, draw(DEVS) if carries_dev else None, draw(st.integers(0, 2**32 - 1)), rtype, table)


def render_ip_route(r: GenRoute, spaces: str) -> str:
    words = [] if r.type == "unicast" else [r.type]
    words.append("default" if r.dst.prefixlen == 0 else str(r.dst))
    if r.gateway:
        words += ["via", str(r.gateway)]
    if r.dev:
        words += ["dev", r.dev]
    if r.table != "main":
        words += ["table", r.table]
    words += ["proto", "static", "metric", str(r.metric)]
    if r.dst.version == 6:
        words += ["pref", "medium"]
    return spaces.join(words)


@settings(max_examples=60, deadline=None)
@given(st.lists(ip_routes(), max_size=25), st.sampled_from([" ", "  "]))
def test_ip_route_round_trip(routes: list[GenRoute], spaces: str) -> None:
    text = "\n".join(render_ip_route(r, spaces) for r in routes) + "\n"
    parsed = ip_route.parse(text, "ip-route")
    assert [key(r) for r in parsed.items] == [key(r) for r in routes]
    assert parsed.unparsed == [] and parsed.expected == len(routes)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(DEVS, st.integers(0, 2**32 - 1), st.integers(1, 255)), min_size=1, max_size=8),
       st.sampled_from(["\t", "    "]))
def test_multipath_round_trip(legs: list[tuple[str, int, int]], indent: str) -> None:
    text = "10.0.0.0/8 proto static metric 5\n" + "".join(
        f"{indent}nexthop via {IPv4Address(gw)} dev {dev} weight {w}\n" for dev, gw, w in legs)
    parsed = ip_route.parse(text, "ip-route")
    assert len(parsed.items) == 1 and parsed.unparsed == []
    got = [(h.dev, h.gateway, h.weight) for h in parsed.items[0].nexthops]
    assert got == [(dev, IPv4Address(gw), w) for dev, gw, w in legs]


PARSERS: list[Callable[[str, str], Parsed[Any]]] = [
    route_n.parse, proc_net_route.parse, ip_route.parse, ip_rule.parse, ip_addr.parse, ip_link_stats.parse,
    ip_neigh.parse, bridge_fdb.parse,
]
SHAPED = st.lists(st.sampled_from([
    "1: eth0: <UP> mtu 1500", "    inet 10.0.0.1/24 scope global eth0", "    RX: bytes packets", "    1 2 3",
    "default via 10.0.0.1 dev eth0", "\tnexthop via", "0:\tfrom all lookup", "Kernel IP routing table",
    "Destination Gateway Genmask Flags Metric Ref Use Iface", "0.0.0.0 0.0.0.0 0.0.0.0 UG 0 0 0 eth0",
    "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0", "aa:bb:cc:dd:ee:ff dev x dst",
    "10.0.0.1 dev eth0 lladdr", "    vxlan id", "    link/ether", "", "{{ ln }}", "<group>", "\x00",
]), max_size=12).map("\n".join)


def _check(result: Parsed[Any], text: str) -> None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    for u in result.unparsed:
        assert 1 <= u.line <= len(lines) and u.text == lines[u.line - 1]
    for item in result.items:
        assert 1 <= item.src.line <= len(lines)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.text(), SHAPED, st.binary().map(lambda b: b.decode("utf-8", errors="replace"))))
def test_garbage_never_raises(text: str) -> None:
    for parse in PARSERS:
        _check(parse(text, "garbage"), text)


def test_huge_line_and_truncation_never_raise() -> None:
    huge = "default via 10.0.0.1 dev " + "x" * 200_000
    for parse in PARSERS:
        for text in (huge, huge[:1000], "\x00" * 5000, "1: eth0: <UP> mtu 1500\n" * 3 + "    inet 10.0.0."):
            _check(parse(text, "big"), text)


def test_an_internal_failure_leaves_every_line_unparsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object) -> None:
        raise RuntimeError("template exploded")

    for module in (route_n, proc_net_route, ip_route, ip_rule, ip_addr, ip_neigh, bridge_fdb):
        monkeypatch.setattr(module, "run_template", boom)
    for parse in PARSERS:
        result = parse("line one\n\nline three\n", "f")
        assert [u.line for u in result.unparsed] == [1, 3] and result.items == []
        assert result.notes == ["parser failed (RuntimeError); every line is left unparsed"]


def render_proc_net_route(routes: list[GenRoute]) -> str:
    def le(addr: IPv4Address | IPv6Address) -> str:
        return int(addr).to_bytes(4, "little").hex().upper()

    lines = ["Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"]
    for r in routes:
        assert isinstance(r.dst, IPv4Network)
        flags = 0x1 | (0x2 if r.gateway else 0) | (0x4 if r.dst.prefixlen == 32 else 0) | (
            0x200 if r.type == "unreachable" else 0)
        gw = le(r.gateway) if r.gateway else "00000000"
        lines.append(f"{r.dev or '*'}\t{le(r.dst.network_address)}\t{gw}\t{flags:04X}\t0\t0\t{r.metric}\t"
                     f"{le(r.dst.netmask)}\t0\t0\t0")
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None)
@given(st.lists(v4_routes(), max_size=25))
def test_proc_net_route_round_trip(routes: list[GenRoute]) -> None:
    parsed = proc_net_route.parse(render_proc_net_route(routes), "proc-net-route")
    assert [key(r) for r in parsed.items] == [key(r) for r in routes]
    assert parsed.unparsed == [] and parsed.expected == len(routes)
