"""`route -n` behaviour beyond the fixture pairs: duplicates, column layouts, reject routes, counts."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from netsnap.parsers import route_n

HEADER = "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"


def test_incident_b_duplicates_are_separate_routes_in_dump_order() -> None:
    text = HEADER + (
        "0.0.0.0         10.175.100.1    0.0.0.0         UG    0      0        0 eth2\n"
        "0.0.0.0         9.91.17.59      0.0.0.0         UG    0      0        0 eth0\n"
        "9.91.0.0        0.0.0.0         255.255.0.0     U     0      0        0 eth0\n"
        "9.91.0.0        0.0.0.0         255.255.0.0     U     0      0        0 eth1\n"
    )
    parsed = route_n.parse(text, "routes/route-n")
    defaults = [r for r in parsed.items if r.is_default]
    assert [(r.gateway, r.dev) for r in defaults] == [(IPv4Address("10.175.100.1"), "eth2"),
                                                      (IPv4Address("9.91.17.59"), "eth0")]
    nine = [r for r in parsed.items if r.dst == IPv4Network("9.91.0.0/16")]
    assert [r.dev for r in nine] == ["eth0", "eth1"]
    assert [r.src.line for r in parsed.items] == [3, 4, 5, 6]
    assert parsed.expected == 4 and parsed.unparsed == [] and parsed.notes == []


def test_provenance_and_raw_line() -> None:
    parsed = route_n.parse(HEADER + "10.0.0.0 0.0.0.0 255.0.0.0 U 5 0 0 eth9\n", "routes/route-n")
    (route,) = parsed.items
    assert str(route.src) == "routes/route-n:3"
    assert route.raw == "10.0.0.0 0.0.0.0 255.0.0.0 U 5 0 0 eth9"
    assert route.origin == "route-n" and route.table == "main" and route.metric == 5


def test_reject_row_is_unreachable_without_gateway_or_device() -> None:
    parsed = route_n.parse(HEADER + "10.0.0.0        -               255.0.0.0       !     0      -        0 -\n", "r")
    (route,) = parsed.items
    assert (route.type, route.gateway, route.dev, route.flags) == ("unreachable", None, None, "!")


def test_host_bits_parse_with_a_note() -> None:
    parsed = route_n.parse(HEADER + "10.1.2.3 0.0.0.0 255.255.0.0 U 0 0 0 eth0\n", "r")
    assert parsed.items[0].dst == IPv4Network("10.1.0.0/16")
    assert any("host bits" in n and "line 3" in n for n in parsed.notes)


def test_columns_follow_the_last_header() -> None:
    text = ("Destination Gateway Genmask Flags MSS Window irtt Iface\n"
            "0.0.0.0 10.0.0.1 0.0.0.0 UG 1400 0 0 eth0\n"
            "Destination Gateway Genmask Flags Metric Ref Use Iface MSS Window irtt\n"
            "0.0.0.0 10.0.0.1 0.0.0.0 UG 7 0 0 eth1 0 0 0\n")
    first, second = route_n.parse(text, "r").items
    # netstat -r's MSS is never read as the metric: there is none, and the route says so
    assert (first.metric, first.dev, first.extra) == (0, "eth0", {"mss": "1400", "metric": "not shown"})
    assert (second.metric, second.dev, second.extra) == (7, "eth1", {})


RAW = Path(__file__).resolve().parents[2] / "fixtures" / "paste" / "raw"


def test_route_without_n_keeps_named_gateways_unknown() -> None:
    """Real `route` output (net-tools 2.10 in a namespace whose /etc/hosts names the gateways)."""
    result = route_n.parse((RAW / "route.txt").read_text(), "route.txt")
    assert result.unparsed == [] and len(result.items) == 7
    first, second = result.items[:2]
    assert first.is_default and first.gateway is None and "G" in first.flags
    assert first.extra["gateway"] == "_gateway" and first.extra["gateway_address"] == "unknown"
    assert second.extra["gateway"] == "gateway" and second.metric == 200
    assert [str(r.dst) for r in result.items if r.dev == "eth0"][-2:] == ["169.254.0.0/16", "192.168.0.0/24"]
    assert any("_gateway is a name" in n for n in result.notes)


def test_netstat_rows_without_header_follow_the_prompt() -> None:
    rows = (RAW / "netstat_-rn.txt").read_text().splitlines()[2:]
    routes = route_n.parse("$ netstat -rn\n" + "\n".join(rows) + "\n", "n").items
    assert len(routes) == 7 and all(r.extra.get("metric") == "not shown" for r in routes)
    guessed = route_n.parse("\n".join(rows) + "\n", "n")
    assert any("no column header" in n for n in guessed.notes)


def test_destination_host_name_is_unparsed_not_guessed() -> None:
    result = route_n.parse(HEADER + "node2.example   0.0.0.0   255.255.255.255 UH 0 0 0 eth0\n", "r")
    assert result.items == [] and [u.line for u in result.unparsed] == [3]
    assert any("is a name" in n for n in result.notes)


def test_textual_default_and_star_gateway() -> None:
    (route,) = route_n.parse(HEADER + "default * 0.0.0.0 U 0 0 0 eth0\n", "r").items
    assert route.is_default and route.gateway is None


def test_unreadable_rows_show_as_count_mismatch() -> None:
    text = HEADER + "0.0.0.0 10.0.0.1 0.0.0.0 UG x 0 0 eth0\n10.0.0.0 0.0.0.0 255.0.0.0 U 0 0 0\nnonsense\n"
    parsed = route_n.parse(text, "r")
    assert parsed.items == []
    assert parsed.expected == 3
    assert [u.line for u in parsed.unparsed] == [3, 4, 5]
    assert "3 data rows, 0 routes parsed" in parsed.notes


def test_empty_input_is_empty_not_an_error() -> None:
    parsed = route_n.parse("", "r")
    assert parsed.items == [] and parsed.unparsed == [] and parsed.expected == 0
