"""`ip route` grammar: keyword arity, flags anywhere, families, tables, multipath, unknown words."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Network

from netsnap.parsers import ip_route


def test_flag_in_mid_line_does_not_shift_pairs() -> None:
    (route,) = ip_route.parse("10.0.0.0/24 dev eth0 linkdown proto kernel scope link src 10.0.0.5\n", "r").items
    assert (route.dev, route.proto, route.scope, route.prefsrc, route.linkdown) == (
        "eth0", "kernel", "link", IPv4Address("10.0.0.5"), True)
    assert route.extra == {}


def test_trailing_onlink_kept() -> None:
    (route,) = ip_route.parse("10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink\n", "r").items
    assert route.onlink and route.gateway == IPv4Address("10.244.1.0")


def test_default_in_other_table_survives() -> None:
    (route,) = ip_route.parse("default via 10.0.0.1 dev eth1 table 100\n", "r").items
    assert (route.table, route.dst) == ("100", IPv4Network("0.0.0.0/0"))


def test_default_family_from_line_or_context() -> None:
    text = ("default via fe80::1 dev eth0 metric 1024\n"
            "unreachable default dev lo metric 1024\n"
            "default via 10.0.0.1 dev eth0\n"
            "unreachable default table 7\n")
    dsts = [r.dst for r in ip_route.parse(text, "r").items]
    assert dsts == [IPv6Network("::/0"), IPv6Network("::/0"), IPv4Network("0.0.0.0/0"), IPv4Network("0.0.0.0/0")]


def test_every_route_type_is_kept() -> None:
    types = ["unicast", "local", "broadcast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "nat",
             "anycast"]
    text = "".join(f"{t} 10.{i}.0.0/16\n" for i, t in enumerate(types))
    assert [r.type for r in ip_route.parse(text, "r").items] == types


def test_host_route_is_slash_32_and_128() -> None:
    text = "10.1.1.1 via 192.168.0.1 dev eth0\nlocal ::1 dev lo table local\n"
    assert [r.dst.prefixlen for r in ip_route.parse(text, "r").items] == [32, 128]


def test_nexthops_with_tabs_and_spaces() -> None:
    text = ("default proto static metric 100\n\tnexthop via 192.168.122.1 dev enp1s0 weight 1\n"
            "    nexthop via 192.168.123.1 dev enp2s0 weight 3 dead onlink\n10.0.0.0/8 dev eth0\n")
    parsed = ip_route.parse(text, "r")
    assert len(parsed.items) == 2 and parsed.unparsed == [] and parsed.expected == 2
    first, second = parsed.items[0].nexthops
    assert (first.dev, first.weight, second.dev, second.weight, second.dead, second.onlink) == (
        "enp1s0", 1, "enp2s0", 3, True, True)
    assert parsed.items[0].gateway is None and parsed.items[0].dev is None


def test_unknown_words_go_to_extra() -> None:
    text = "10.96.0.0/12 nhid 17 via 10.0.0.1 dev eth0 mtu lock 1400 frobnicate 3 shiny\n"
    (route,) = ip_route.parse(text, "r").items
    assert route.extra == {"nhid": "17", "mtu": "lock 1400", "frobnicate": "3", "shiny": ""}


def test_read_words_via_inet6() -> None:
    values, flags = ip_route.read_words(["via", "inet6", "fe80::1", "dev", "eth0", "onlink"])
    assert values == {"via": "fe80::1", "via_family": "inet6", "dev": "eth0"} and flags == ["onlink"]


def test_bad_lines_are_unparsed_and_counted() -> None:
    text = "default via 10.0.0.999 dev eth0\nRTNETLINK answers: nope\n10.0.0.0/8 dev eth0\n"
    parsed = ip_route.parse(text, "r")
    assert [r.src.line for r in parsed.items] == [3]
    assert [u.line for u in parsed.unparsed] == [1, 2]
    assert parsed.expected == 3 and "3 route lines, 1 routes parsed" in parsed.notes


def test_ipv4_route_with_ipv6_gateway() -> None:
    (route,) = ip_route.parse("default via inet6 fe80::1 dev eth0 proto bgp metric 20\n", "r").items
    assert route.dst == IPv4Network("0.0.0.0/0") and str(route.gateway) == "fe80::1"
    assert route.extra == {"via_family": "inet6"}


def test_nexthop_after_an_unparsed_line_belongs_to_no_route() -> None:
    text = "10.0.0.0/8 proto static\n\tnexthop via 10.0.0.1 dev eth0\ngarbage\n\tnexthop via 10.0.0.2 dev eth1\n"
    parsed = ip_route.parse(text, "r")
    assert [h.dev for h in parsed.items[0].nexthops] == ["eth0"]
    assert [u.line for u in parsed.unparsed] == [3, 4]
