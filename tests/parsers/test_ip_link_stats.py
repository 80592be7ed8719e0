"""`ip -s link` counters in both iproute2 layouts and with `-s -s`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

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


RAW = Path(__file__).resolve().parents[2] / "fixtures" / "paste" / "raw"


@pytest.mark.parametrize("width", [0, 60, 80, 120])
def test_ip_s_d_link_carries_link_details_and_counters_even_wrapped(width: int) -> None:
    """Real `ip -s -d link` (iproute2 6.1, flannel.1 a VXLAN device), as printed and terminal-wrapped:
    the same kind, MTU, state, master and VXLAN details `ip -d link` gives, and counters for every link."""
    text = (RAW / "ip_-s_-d_link.txt").read_text()
    if width:
        text = subprocess.run(["fold", "-w", str(width)], input=text, capture_output=True, text=True,
                              check=True).stdout
    result = ip_link_stats.parse(text, "sos_commands/networking/ip_-s_-d_link")
    assert result.unparsed == [] and all(i.counters is not None for i in result.items)
    by_name = {i.name: i for i in result.items}
    flannel = by_name["flannel.1"]
    assert (flannel.kind, flannel.mtu, flannel.state) == ("vxlan", 1450, "UNKNOWN")
    assert flannel.vxlan is not None
    assert (flannel.vxlan.vni, str(flannel.vxlan.local), flannel.vxlan.dev, flannel.vxlan.dstport) == (
        1, "192.168.0.15", "eth0", 8472)
    assert flannel.vxlan.learning is False
    assert by_name["veth1a2b3c4d"].master == "cni0" and by_name["cni0"].kind == "bridge"
