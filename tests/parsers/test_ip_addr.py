"""`ip -d address` / `ip -d link`: names, peers, addresses, kinds, VXLAN details, line ownership."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.model.base import Parsed
from netsnap.model.interfaces import Interface
from netsnap.parsers import ip_addr

FLANNEL = """\
4: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN group default
    link/ether 6e:8f:30:1a:2b:3c brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 65535
    vxlan id 1 local 192.168.0.15 dev eth1 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum
    inet 10.244.0.0/32 scope global flannel.1
       valid_lft forever preferred_lft forever
"""


def test_vxlan_details_are_structured() -> None:
    parsed = ip_addr.parse(FLANNEL, "links/ip-d-address")
    (iface,) = parsed.items
    assert iface.vxlan is not None
    assert (iface.vxlan.vni, iface.vxlan.local, iface.vxlan.dev, iface.vxlan.dstport, iface.vxlan.learning) == (
        1, IPv4Address("192.168.0.15"), "eth1", 8472, False)
    assert iface.vxlan.src.line == 3
    assert (iface.kind, iface.mtu, iface.state, iface.mac) == ("vxlan", 1450, "UNKNOWN", "6e:8f:30:1a:2b:3c")
    assert iface.details["vxlan.srcport"] == "0 0" and iface.details["vxlan.ttl"] == "auto"
    assert iface.addresses[0].extra == {"valid_lft": "forever", "preferred_lft": "forever"}
    assert parsed.unparsed == [] and parsed.expected == 1


def test_learning_when_nolearning_absent() -> None:
    (iface,) = ip_addr.parse(FLANNEL.replace(" nolearning", ""), "x").items
    assert iface.vxlan is not None and iface.vxlan.learning


def test_names_containing_vxlan_keep_their_addresses() -> None:
    text = ("9: vxlan.calico: <UP> mtu 1410 qdisc noqueue state UNKNOWN\n"
            "    link/ether 66:aa:bb:cc:dd:ee brd ff:ff:ff:ff:ff:ff\n"
            "    inet 192.168.97.128/32 scope global vxlan.calico\n")
    (iface,) = ip_addr.parse(text, "x").items
    assert iface.name == "vxlan.calico" and iface.kind is None
    assert [a.address for a in iface.addresses] == [IPv4Interface("192.168.97.128/32")]


def test_peer_suffixes() -> None:
    text = ("7: veth1234@if3: <UP> mtu 1450 master cni0 state UP\n"
            "8: eth0.100@eth0: <UP> mtu 1500\n"
            "9: tunl0@NONE: <NOARP> mtu 1480\n")
    items = ip_addr.parse(text, "x").items
    assert [(i.name, i.link) for i in items] == [("veth1234", "if3"), ("eth0.100", "eth0"), ("tunl0", None)]
    assert items[0].master == "cni0" and items[2].details["link"] == "NONE"


def test_secondary_label_peer_and_flags() -> None:
    text = ("2: eth0: <BROADCAST,UP> mtu 1500 state UP\n"
            "    inet 10.0.0.1/24 brd 10.0.0.255 scope global dynamic noprefixroute eth0\n"
            "    inet 10.0.0.2/24 brd 10.0.0.255 scope global secondary eth0:1\n"
            "    inet 10.8.0.1 peer 10.8.0.2/32 scope global eth0\n"
            "    inet6 fe80::1/64 scope link dadfailed tentative\n")
    first, second, third, fourth = ip_addr.parse(text, "x").items[0].addresses
    assert (first.label, first.flags, first.broadcast, first.secondary) == (
        "eth0", ["dynamic", "noprefixroute"], IPv4Address("10.0.0.255"), False)
    assert (second.secondary, second.label) == (True, "eth0:1")
    assert third.peer == IPv4Interface("10.8.0.2/32")
    assert (fourth.scope, fourth.flags, fourth.label) == ("link", ["dadfailed", "tentative"], None)


def test_kind_and_slave_lines() -> None:
    text = ("6: veth0@if2: <UP> mtu 1450 master cni0 state UP\n"
            "    link/ether 86:1d:2e:3f:40:51 brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 1\n"
            "    veth\n"
            "    bridge_slave state forwarding priority 32 learning on hold_timer    0.00 addrgenmode eui64\n"
            "    altname enp9s0\n")
    (iface,) = ip_addr.parse(text, "x").items
    assert iface.kind == "veth" and iface.details["slave_kind"] == "bridge_slave"
    assert iface.details["bridge_slave.state"] == "forwarding"
    assert iface.details["bridge_slave.learning"] == "on" and iface.details["bridge_slave.hold_timer"] == "0.00"
    assert iface.details["addrgenmode"] == "eui64" and iface.details["altname"] == "enp9s0"
    assert iface.details["link-netnsid"] == "0"


def test_bad_kind_line_sets_no_kind() -> None:
    text = "2: eth0: <UP> mtu 1500\n    vxlan id x local 1.2.3.4\n"
    parsed = ip_addr.parse(text, "x")
    assert parsed.items[0].kind is None and parsed.items[0].vxlan is None
    assert [u.line for u in parsed.unparsed] == [2]


def test_unindented_garbage_does_not_join_a_link() -> None:
    parsed = ip_addr.parse("2: eth0: <UP> mtu 1500\ngarbage words here\n", "x")
    assert parsed.items[0].details == {} and [u.line for u in parsed.unparsed] == [2]


def test_one_line_address_format_is_read_without_inventing_flags() -> None:
    parsed = ip_addr.parse("2: eth0    inet 10.0.0.1/24 scope global eth0\\       valid_lft forever\n"
                           "2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever\n", "x")
    (eth0,) = parsed.items
    assert parsed.unparsed == [] and [str(a.address) for a in eth0.addresses] == ["10.0.0.1/24", "fe80::1/64"]
    assert [a.src.line for a in eth0.addresses] == [1, 2] and eth0.src.line == 1
    assert eth0.details["flags"] == "not shown" and eth0.mtu is None  # -o addr shows no flags, state or MTU
    assert any("ip -o addr" in n for n in parsed.notes)


RAW = Path(__file__).resolve().parents[2] / "fixtures" / "paste" / "raw"


@pytest.mark.parametrize("width", [60, 80, 120])
def test_wrapped_output_reads_as_the_original(width: int) -> None:
    text = (RAW / "ip_addr.txt").read_text()
    folded = subprocess.run(["fold", "-w", str(width)], input=text, capture_output=True, text=True, check=True).stdout
    want, got = ip_addr.parse(text, "a"), ip_addr.parse(folded, "a")
    assert got.unparsed == []
    assert [i.model_dump(exclude={"src", "raw", "addresses"}) for i in got.items] == \
        [i.model_dump(exclude={"src", "raw", "addresses"}) for i in want.items]
    def addresses(result: Parsed[Interface]) -> list[list[object]]:
        return [[a.address for a in i.addresses] for i in result.items]
    assert addresses(got) == addresses(want)


def test_warning_before_output_is_understood_and_said() -> None:
    parsed = ip_addr.parse((RAW / "ip_addr_group_warning.txt").read_text(), "a")
    assert parsed.unparsed == [] and len(parsed.items) == 6
    assert parsed.notes[0].startswith("line 1: the tool printed before its output: Database /etc/iproute2/group")


def test_broken_link_line_counts_against_expected() -> None:
    parsed = ip_addr.parse("1: lo: <UP> mtu abc\n2: eth0: <UP> mtu 1500\n", "x")
    assert parsed.expected == 2 and [i.name for i in parsed.items] == ["eth0"]
    assert "2 link lines, 1 interfaces parsed" in parsed.notes


def test_detail_words_arity() -> None:
    words = ["protocol", "802.1Q", "id", "100", "<REORDER_HDR,GVRP>", "addrgenmode", "eui64"]
    assert ip_addr.detail_words(words, "vlan") == {
        "vlan.protocol": "802.1Q", "vlan.id": "100", "vlan.flags": "REORDER_HDR,GVRP", "addrgenmode": "eui64"}
    vx = ["id", "1", "port", "32768", "61000", "nolearning", "learning2", "x"]
    assert ip_addr.detail_words(vx, "vxlan") == {
        "vxlan.id": "1", "vxlan.port": "32768 61000", "vxlan.nolearning": "", "vxlan.learning2": "x"}


def test_lines_under_an_unreadable_link_line_do_not_join_the_link_above() -> None:
    text = ("2: eth0: <UP> mtu 1500\n"
            "    link/ether fa:16:3e:11:22:33 brd ff:ff:ff:ff:ff:ff\n"
            "    inet 192.168.0.20/24 scope global eth0\n"
            '3: "><img src=x>: <UP> mtu 1500\n'
            "    link/ether fa:16:3e:44:55:66 brd ff:ff:ff:ff:ff:ff\n"
            "    inet 10.9.9.9/24 scope global x\n")
    parsed = ip_addr.parse(text, "x")
    (eth0,) = parsed.items
    assert eth0.mac == "fa:16:3e:11:22:33" and [str(a.address) for a in eth0.addresses] == ["192.168.0.20/24"]
    assert [u.line for u in parsed.unparsed] == [4, 5, 6]
    assert parsed.expected == 2 and "2 link lines, 1 interfaces parsed" in parsed.notes


@dataclass(frozen=True)
class GenLink:
    name: str
    peer: str | None
    mac: str
    mtu: int
    addrs: list[tuple[int, int, bool]]
    vxlan: tuple[int, int, bool] | None
    up: bool


@st.composite
def links(draw: st.DrawFn) -> GenLink:
    return GenLink(
        name=draw(st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[0-9]{1,4})?", fullmatch=True)),
        peer=draw(st.sampled_from([None, "if3", "eth0", "NONE"])),
        mac=":".join(f"{b:02x}" for b in draw(st.lists(st.integers(0, 255), min_size=6, max_size=6))),
        mtu=draw(st.integers(68, 65535)),
        addrs=draw(st.lists(st.tuples(st.integers(1, 2**32 - 2), st.integers(8, 32), st.booleans()), max_size=3)),
        vxlan=draw(st.one_of(st.none(), st.tuples(st.integers(1, 2**24 - 1), st.integers(1, 65535), st.booleans()))),
        up=draw(st.booleans()),
    )


def render_links(spec: list[GenLink]) -> str:
    out = []
    for index, link in enumerate(spec, start=1):
        flags = "BROADCAST,MULTICAST,UP,LOWER_UP" if link.up else "BROADCAST,MULTICAST"
        suffix = f"@{link.peer}" if link.peer else ""
        out.append(f"{index}: {link.name}{suffix}: <{flags}> mtu {link.mtu} qdisc noqueue state UP group default")
        out.append(f"    link/ether {link.mac} brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 65535")
        if link.vxlan:
            vni, port, learning = link.vxlan
            out.append(f"    vxlan id {vni} local 192.168.0.15 dev eth1 srcport 0 0 dstport {port}"
                       f"{'' if learning else ' nolearning'} ttl auto ageing 300 udpcsum addrgenmode eui64")
        for ip, plen, secondary in link.addrs:
            sec = " secondary" if secondary else ""
            out.append(f"    inet {IPv4Address(ip)}/{plen} scope global{sec} {link.name}")
            out.append("       valid_lft forever preferred_lft forever")
    return "\n".join(out) + "\n"


@settings(max_examples=50, deadline=None)
@given(st.lists(links(), max_size=6))
def test_rendered_links_parse_back(spec: list[GenLink]) -> None:
    parsed = ip_addr.parse(render_links(spec), "links/ip-d-address")
    assert parsed.unparsed == [] and parsed.expected == len(spec) == len(parsed.items)
    for index, (link, iface) in enumerate(zip(spec, parsed.items, strict=True), start=1):
        assert (iface.index, iface.name, iface.mtu, iface.mac, iface.is_up) == (
            index, link.name, link.mtu, link.mac, link.up)
        assert iface.link == (None if link.peer in (None, "NONE") else link.peer)
        got = [(a.address, a.secondary, a.label) for a in iface.addresses]
        assert got == [(IPv4Interface(f"{IPv4Address(ip)}/{plen}"), sec, link.name) for ip, plen, sec in link.addrs]
        if link.vxlan:
            vni, port, learning = link.vxlan
            assert iface.vxlan is not None and iface.kind == "vxlan"
            assert (iface.vxlan.vni, iface.vxlan.dstport, iface.vxlan.learning) == (vni, port, learning)
        else:
            assert iface.vxlan is None and iface.kind is None
