"""`/proc/net/route`: hex decoding, flags, byte order, and agreement with `route -n`."""

from __future__ import annotations

from ipaddress import IPv4Address

from netsnap.parsers import proc_net_route, route_n

HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"


def test_hex_is_host_byte_order() -> None:
    assert proc_net_route.hex_to_ipv4("0100A8C0") == IPv4Address("192.168.0.1")
    assert proc_net_route.hex_to_ipv4("C0A80001", "big") == IPv4Address("192.168.0.1")


def test_flag_letters_match_route_n() -> None:
    assert proc_net_route.flag_letters(0x0003) == "UG"
    assert proc_net_route.flag_letters(0x0007) == "UGH"
    assert proc_net_route.flag_letters(0x0201) == "U!"


def test_same_table_as_route_n() -> None:
    proc = HEADER + (
        "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
        "flannel.1\t0001F40A\t0001F40A\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    )
    text = ("Kernel IP routing table\nDestination Gateway Genmask Flags Metric Ref Use Iface\n"
            "0.0.0.0 192.168.0.1 0.0.0.0 UG 100 0 0 eth0\n"
            "192.168.0.0 0.0.0.0 255.255.255.0 U 100 0 0 eth0\n"
            "10.244.1.0 10.244.1.0 255.255.255.0 UG 0 0 0 flannel.1\n")

    def key(r: object) -> tuple[object, ...]:
        return tuple(getattr(r, f) for f in ("dst", "gateway", "dev", "metric", "flags", "type", "table"))

    assert [key(r) for r in proc_net_route.parse(proc, "p").items] == [key(r) for r in route_n.parse(text, "r").items]


def test_big_endian_host_is_detected_from_masks() -> None:
    text = HEADER + "enc600\tC0A80000\t00000000\t0001\t0\t0\t0\tFFFFFF00\t0\t0\t0\n"
    parsed = proc_net_route.parse(text, "p")
    assert str(parsed.items[0].dst) == "192.168.0.0/24"
    assert any("big-endian" in n for n in parsed.notes)


def test_reject_route_without_device() -> None:
    (route,) = proc_net_route.parse(HEADER + "*\t0000090A\t00000000\t0201\t0\t0\t0\t0000FFFF\t0\t0\t0\n", "p").items
    assert (route.type, route.dev, str(route.dst)) == ("unreachable", None, "10.9.0.0/16")


def test_short_row_is_unparsed_with_note() -> None:
    parsed = proc_net_route.parse(HEADER + "eth0\t00000000\t0100A8C0\t0003\t0\n", "p")
    assert parsed.items == [] and [u.line for u in parsed.unparsed] == [2] and parsed.expected == 1
