"""Interface selection emulation (flannel.md §2) on hosts built by the route -n / ip addr parsers."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from netsnap.flannel.effective import files_config
from netsnap.flannel.iface_select import choose_external
from netsnap.model import BundleInfo, FlannelConfig, Host, Identity, NextHop, Provenance, Route
from netsnap.parsers import flannel_env, ip_addr, route_n, systemd_unit

ROUTE_HEADER = ("Kernel IP routing table\n"
                "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n")
MASTER_ROUTES = ROUTE_HEADER + """\
0.0.0.0         172.16.0.1      0.0.0.0         UG    100    0        0 eth0
169.254.169.254 172.16.0.2      255.255.255.255 UGH   100    0        0 eth0
172.16.0.0      0.0.0.0         255.255.255.0   U     100    0        0 eth0
172.18.0.0      0.0.0.0         255.255.0.0     U     0      0        0 flannel.1
172.18.100.0    0.0.0.0         255.255.255.0   U     0      0        0 docker0
192.168.0.0     0.0.0.0         255.255.255.0   U     100    0        0 eth1
"""
MASTER_ADDRS = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000
    link/ether fa:16:3e:00:00:01 brd ff:ff:ff:ff:ff:ff
    inet 172.16.0.4/24 brd 172.16.0.255 scope global eth0
       valid_lft forever preferred_lft forever
3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000
    link/ether fa:16:3e:00:00:02 brd ff:ff:ff:ff:ff:ff
    inet 192.168.0.15/24 brd 192.168.0.255 scope global eth1
       valid_lft forever preferred_lft forever
    inet 192.168.0.100/24 scope global secondary eth1
       valid_lft forever preferred_lft forever
"""
VAGRANT_ROUTES = ROUTE_HEADER + """\
0.0.0.0         10.0.2.2        0.0.0.0         UG    100    0        0 eth0
10.0.2.0        0.0.0.0         255.255.255.0   U     100    0        0 eth0
192.168.56.0    0.0.0.0         255.255.255.0   U     101    0        0 eth1
"""
VAGRANT_ADDRS = """\
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000
    link/ether 08:00:27:00:00:01 brd ff:ff:ff:ff:ff:ff
    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic eth0
       valid_lft 86000sec preferred_lft 86000sec
3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000
    link/ether 08:00:27:00:00:02 brd ff:ff:ff:ff:ff:ff
    inet 192.168.56.11/24 brd 192.168.56.255 scope global eth1
       valid_lft forever preferred_lft forever
"""


def make_host(routes: str, addrs: str) -> Host:
    host = Host(name="h", bundle=BundleInfo(path="h", kind="dir"), identity=Identity(hostname="h"))
    host.routes = route_n.parse(routes, "routes/route-n").items
    host.interfaces = {i.name: i for i in ip_addr.parse(addrs, "links/ip-d-address").items}
    assert host.routes and host.interfaces
    return host


def opts(value: str, var: str = "FLANNEL_OPTS", unit: str | None = None) -> FlannelConfig:
    path = "flannel/etc-default-flanneld"
    env = flannel_env.parse(f'{var}="{value}"\n', path).items
    u = systemd_unit.parse(unit, "flannel/systemctl-cat").items[0] if unit else None
    return files_config({path: env}, u, [])


def test_incident_a_master_without_iface_takes_eth0() -> None:
    sel = choose_external(make_host(MASTER_ROUTES, MASTER_ADDRS), None)
    assert (sel.iface, sel.address, sel.external_address, sel.method, sel.error) == (
        "eth0", IPv4Address("172.16.0.4"), IPv4Address("172.16.0.4"), "default-route", None)
    assert Provenance(file="routes/route-n", line=3) in sel.evidence
    assert Provenance(file="links/ip-d-address", line=7) in sel.evidence


def test_incident_a_master_with_the_fixed_opts_takes_eth1() -> None:
    cfg = opts("-etcd-endpoints=https://192.168.0.15:4003\n-iface=eth1 -public-ip=192.168.0.15\n"
               "-etcd-cafile=/var/paas/srv/kubernetes/ca.crt")
    sel = choose_external(make_host(MASTER_ROUTES, MASTER_ADDRS), cfg)
    assert (sel.iface, sel.address, sel.external_address, sel.method) == (
        "eth1", IPv4Address("192.168.0.15"), IPv4Address("192.168.0.15"), "iface")
    assert Provenance(file="flannel/etc-default-flanneld", line=2) in sel.evidence
    assert any("2 IPv4 addresses" in r and "secondary" in r for r in sel.reasoning)


def test_vagrant_nat_nic_and_its_fix() -> None:
    host = make_host(VAGRANT_ROUTES, VAGRANT_ADDRS)
    assert choose_external(host, None).address == IPv4Address("10.0.2.15")
    assert choose_external(host, opts("--iface=eth1")).address == IPv4Address("192.168.56.11")


def test_braced_options_make_the_iface_value_unmatchable() -> None:
    unit = ("[Service]\nEnvironmentFile=/etc/default/flanneld\nExecStart=/usr/bin/flanneld ${FLANNEL_OPTIONS}\n")
    cfg = opts("--iface=eth1 --ip-masq", var="FLANNEL_OPTIONS", unit=unit)
    sel = choose_external(make_host(MASTER_ROUTES, MASTER_ADDRS), cfg)
    assert sel.iface is None
    assert sel.error == "Failed to find interface to use that matches the interfaces and/or regexes provided"
    assert any("'eth1 --ip-masq'" in r for r in sel.reasoning)
    fixed = opts("--iface=eth1 --ip-masq", var="FLANNEL_OPTIONS", unit=unit.replace("${FLANNEL_OPTIONS}",
                                                                                    "$FLANNEL_OPTIONS"))
    assert choose_external(make_host(MASTER_ROUTES, MASTER_ADDRS), fixed).iface == "eth1"


def test_stray_word_drops_iface_and_falls_back_to_the_default_route_nic() -> None:
    sel = choose_external(make_host(MASTER_ROUTES, MASTER_ADDRS), opts("--ip-masq true --iface=eth1"))
    assert (sel.iface, sel.method) == ("eth0", "default-route")
    assert any("never reads --iface=eth1" in r for r in sel.reasoning)


def test_iface_by_ip_and_first_match_wins() -> None:
    host = make_host(MASTER_ROUTES, MASTER_ADDRS)
    sel = choose_external(host, opts("--iface=eth9 --iface=192.168.0.100 --iface=eth0"))
    assert (sel.iface, sel.address, sel.method) == ("eth1", IPv4Address("192.168.0.100"), "iface")
    assert any("eth9" in r and "no interface of that name" in r for r in sel.reasoning)


def test_iface_regex_tries_addresses_then_names() -> None:
    host = make_host(MASTER_ROUTES, MASTER_ADDRS)
    assert choose_external(host, opts("--iface-regex=^192\\.168\\.")).address == IPv4Address("192.168.0.15")
    by_name = choose_external(host, opts("--iface-regex=th1$"))
    assert (by_name.iface, by_name.method) == ("eth1", "iface-regex")
    bad = choose_external(host, opts("--iface-regex=[ --iface-regex=^nothing"))
    assert bad.error is not None and bad.iface is None


def test_iface_can_reach_uses_the_longest_prefix_route() -> None:
    host = make_host(MASTER_ROUTES, MASTER_ADDRS)
    sel = choose_external(host, opts("--iface-can-reach=192.168.0.16"))
    assert (sel.iface, sel.address, sel.method) == ("eth1", IPv4Address("192.168.0.15"), "can-reach")
    via_default = choose_external(host, opts("--iface-can-reach=8.8.8.8"))
    assert via_default.iface == "eth0"


def test_can_reach_prefers_route_src() -> None:
    host = make_host(MASTER_ROUTES, MASTER_ADDRS)
    host.routes.append(Route(origin="ip-route", dst=IPv4Network("10.9.0.0/16"), dev="eth1",
                             prefsrc=IPv4Address("192.168.0.100"), src=Provenance(file="routes/ip-route", line=9)))
    sel = choose_external(host, opts("--iface-can-reach=10.9.1.1"))
    assert (sel.iface, sel.address) == ("eth1", IPv4Address("192.168.0.100"))
    assert Provenance(file="routes/ip-route", line=9) in sel.evidence


def test_public_ip_alone_selects_its_owner_and_is_the_external_address() -> None:
    host = make_host(MASTER_ROUTES, MASTER_ADDRS)
    sel = choose_external(host, opts("--public-ip=192.168.0.15"))
    assert (sel.iface, sel.method, sel.external_address) == ("eth1", "public-ip", IPv4Address("192.168.0.15"))
    nat = choose_external(host, opts("--iface=eth1 --public-ip=203.0.113.9"))
    assert (nat.address, nat.external_address) == (IPv4Address("192.168.0.15"), IPv4Address("203.0.113.9"))
    missing = choose_external(host, opts("--public-ip=203.0.113.9"))
    assert missing.error is not None and "on no interface" in missing.error


def test_default_route_order_ecmp_and_no_route() -> None:
    host = make_host(MASTER_ROUTES, MASTER_ADDRS)
    host.routes.insert(0, Route(origin="ip-route", dst=IPv4Network("0.0.0.0/0"), dev="eth1", metric=200,
                                gateway=IPv4Address("192.168.0.1"), src=Provenance(file="routes/ip-route", line=1)))
    sel = choose_external(host, None)
    assert sel.iface == "eth0"
    assert any("2 default routes" in r for r in sel.reasoning)
    ecmp = Route(origin="ip-route", dst=IPv4Network("0.0.0.0/0"), metric=0, src=Provenance(file="r", line=1),
                 nexthops=[NextHop(gateway=IPv4Address("172.16.0.1"), dev="eth0"),
                           NextHop(gateway=IPv4Address("192.168.0.1"), dev="eth1")])
    host.routes.insert(0, ecmp)
    bad = choose_external(host, None)
    assert bad.iface is None and bad.error is not None and "could not determine interface" in bad.error
    host.routes = [r for r in host.routes if r.dst.prefixlen]
    assert "unable to find default route" in (choose_external(host, None).error or "")
    host.routes = []
    assert "no routes captured" in (choose_external(host, None).error or "")


def test_interface_without_ipv4_fails() -> None:
    host = make_host(MASTER_ROUTES, MASTER_ADDRS)
    host.interfaces["eth0"] = host.interfaces["eth0"].model_copy(update={"addresses": []})
    assert "failed to find IPv4 address for interface eth0" in (choose_external(host, None).error or "")


def test_missing_interfaces_is_a_data_gap_not_a_flanneld_failure() -> None:
    host = make_host(MASTER_ROUTES, MASTER_ADDRS)
    host.interfaces = {}
    sel = choose_external(host, opts("--iface=eth1"))
    assert sel.error is not None and "no interfaces captured" in sel.error


def test_iface_from_a_missing_environment_file_is_not_recomputed() -> None:
    [u] = systemd_unit.parse("[Service]\nEnvironmentFile=/etc/flannel/iface.env\n"
                             "ExecStart=/usr/bin/flanneld --iface=${FLANNEL_IFACE}\n", "flannel/systemctl-cat").items
    cfg = files_config({}, u, [])
    sel = choose_external(make_host(MASTER_ROUTES, MASTER_ADDRS), cfg)
    # not "Failed to find interface" (flanneld would not fail for that) and not the default route's eth0
    assert sel.iface is None and sel.error is None and sel.address is None
    assert any("cannot be recomputed" in r for r in sel.reasoning)
