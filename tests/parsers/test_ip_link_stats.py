"""`ip -s link` counters in both iproute2 layouts and with `-s -s`."""

from __future__ import annotations

from netsnap.parsers import ip_link_stats

OLD = """\
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff
    RX: bytes  packets  errors  dropped overrun mcast
    1000       10       1       2       3       4
    TX: bytes  packets  errors  dropped carrier collsns
    2000       20       5       6       7       8
"""
NEW = """\
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff
    RX:  bytes packets errors dropped  missed   mcast
          1000      10      1       2       3       4
    TX:  bytes packets errors dropped carrier collsns
          2000      20      5       6       7       8
"""


def test_old_and_new_layouts_give_the_same_counters() -> None:
    old = ip_link_stats.parse(OLD, "links/ip-s-link").items[0]
    new = ip_link_stats.parse(NEW, "links/ip-s-link").items[0]
    assert old.counters is not None and new.counters is not None
    assert old.counters.model_dump(exclude={"src"}) == new.counters.model_dump(exclude={"src"}) == {
        "rx_bytes": 1000, "rx_packets": 10, "rx_errors": 1, "rx_dropped": 2,
        "tx_bytes": 2000, "tx_packets": 20, "tx_errors": 5, "tx_dropped": 6}
    assert old.counters.src.line == 3
    assert (old.details["rx_overrun"], new.details["rx_missed"], new.details["tx_carrier"]) == ("3", "3", "7")


def test_s_s_error_rows_go_to_details() -> None:
    text = NEW + ("    RX errors:  length    crc   frame    fifo overrun\n"
                  "                     0      7       0       0       0\n")
    parsed = ip_link_stats.parse(text, "x")
    assert parsed.items[0].details["rx_errors_crc"] == "7" and parsed.unparsed == []


def test_counter_row_not_matching_its_header_is_unparsed() -> None:
    text = OLD.replace("2000       20       5       6       7       8", "2000 20")
    parsed = ip_link_stats.parse(text, "x")
    counters = parsed.items[0].counters
    assert counters is not None and counters.rx_bytes == 1000 and counters.tx_bytes == 0
    assert [u.line for u in parsed.unparsed] == [5, 6]
    assert any("line 6" in n for n in parsed.notes)


def test_source_id() -> None:
    assert ip_link_stats.parse(OLD, "x").source == "ip_link_stats"


def test_number_row_must_follow_its_header() -> None:
    text = OLD.replace("    1000       10       1       2       3       4\n", "    altname x\n    1000 10 1 2 3 4\n")
    parsed = ip_link_stats.parse(text, "x")
    counters = parsed.items[0].counters
    assert counters is not None and counters.rx_bytes == 0 and counters.tx_bytes == 2000
    assert [u.line for u in parsed.unparsed] == [3, 5]
