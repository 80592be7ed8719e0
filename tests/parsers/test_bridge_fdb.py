"""`bridge fdb show`: VXLAN dst entries, bridge ports, flags and extra pairs."""

from __future__ import annotations

from ipaddress import IPv4Address

from netsnap.parsers import bridge_fdb


def test_vxlan_and_bridge_entries() -> None:
    text = ("6E:8F:30:1A:2B:3C dev flannel.1 dst 192.168.0.16 self permanent\n"
            "00:00:00:00:00:00 dev flannel.1 dst 192.168.0.17 self permanent\n"
            "02:42:ac:11:00:02 dev veth0 master docker0\n"
            "52:54:00:aa:bb:01 dev swp1 vlan 10 master br0 offload extern_learn router\n"
            "52:54:00:aa:bb:03 dev vxlan100 dst 10.0.0.3 port 4789 vni 100 src_vni 7 via eth1 self\n")
    items = bridge_fdb.parse(text, "neigh/bridge-fdb").items
    assert items[0].mac == "6e:8f:30:1a:2b:3c" and items[0].dst == IPv4Address("192.168.0.16")
    assert items[0].flags == ["self", "permanent"]
    assert items[1].mac == "00:00:00:00:00:00"
    assert (items[2].dev, items[2].master, items[2].flags) == ("veth0", "docker0", [])
    assert (items[3].vlan, items[3].flags) == (10, ["offload", "extern_learn", "router"])
    assert items[4].extra == {"port": "4789", "vni": "100", "src_vni": "7", "via": "eth1"}


def test_bad_lines_are_unparsed() -> None:
    text = "6e:8f:30:1a:2b:3c dev x dst 192.168.0.999 self\n52:54:00:aa:bb:01 dev swp1 vlan ten\n6e:8f:30\n"
    parsed = bridge_fdb.parse(text, "x")
    assert parsed.items == [] and [u.line for u in parsed.unparsed] == [1, 2, 3] and parsed.expected == 3
