"""Properties of the selection emulation over generated hosts (constructed models, no parsers)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.flannel.iface_select import choose_external
from netsnap.model import BundleInfo, FlagValue, FlannelConfig, Host, Identity, IfAddress, Interface, Provenance, Route

P = Provenance(file="t", line=1)


@st.composite
def hosts(draw: st.DrawFn) -> Host:
    n = draw(st.integers(min_value=1, max_value=4))
    interfaces: dict[str, Interface] = {}
    for i in range(n):
        count = draw(st.integers(min_value=0, max_value=2))
        addrs = [IfAddress(address=IPv4Interface(f"10.{i}.{k}.{draw(st.integers(1, 254))}/24"), secondary=k > 0,
                           src=Provenance(file="a", line=10 * i + k + 1)) for k in range(count)]
        interfaces[f"eth{i}"] = Interface(name=f"eth{i}", index=i + 2, addresses=addrs, src=P)
    routes = []
    for j in range(draw(st.integers(min_value=0, max_value=3))):
        dev = f"eth{draw(st.integers(0, n - 1))}"
        routes.append(Route(origin="ip-route", dst=IPv4Network("0.0.0.0/0"), dev=dev, metric=draw(st.integers(0, 3)),
                            gateway=IPv4Address("10.0.0.1"), src=Provenance(file="r", line=j + 1)))
    host = Host(name="h", bundle=BundleInfo(path="h", kind="dir"), identity=Identity(hostname="h"),
                interfaces=interfaces, routes=routes)
    return host


def flag(name: str, value: str) -> FlannelConfig:
    fv = FlagValue(name=name, value=value, via="test", src=Provenance(file="f", line=1))
    return FlannelConfig(origin="files", flags={name: fv}, repeated={name: [fv]} if name == "iface" else {})


@settings(max_examples=150, deadline=None)
@given(hosts())
def test_auto_selection_is_the_lowest_metric_default_and_its_first_address(host: Host) -> None:
    sel = choose_external(host, None)
    defaults = sorted(host.routes, key=lambda r: r.metric)
    if not defaults:
        assert sel.error is not None and sel.iface is None
        return
    dev = host.interfaces[defaults[0].dev or ""]
    if not dev.addresses:
        assert sel.error is not None and "failed to find IPv4 address" in sel.error
        return
    assert (sel.iface, sel.address, sel.external_address, sel.method) == (
        dev.name, dev.addresses[0].address.ip, dev.addresses[0].address.ip, "default-route")
    assert defaults[0].src in sel.evidence and dev.addresses[0].src in sel.evidence


@settings(max_examples=150, deadline=None)
@given(hosts(), st.integers(0, 3))
def test_iface_by_name_or_address_picks_that_interface(host: Host, k: int) -> None:
    name = f"eth{k}"
    sel = choose_external(host, flag("iface", name))
    iface = host.interfaces.get(name)
    if iface is None or not iface.addresses:
        assert sel.error is not None and sel.iface is None
        return
    assert (sel.iface, sel.address, sel.method) == (name, iface.addresses[0].address.ip, "iface")
    last = iface.addresses[-1].address.ip
    by_ip = choose_external(host, flag("iface", str(last)))
    assert (by_ip.iface, by_ip.address) == (name, last)


@settings(max_examples=100, deadline=None)
@given(hosts())
def test_a_chosen_address_always_belongs_to_the_chosen_interface(host: Host) -> None:
    for cfg in (None, flag("iface-regex", r"^10\.1\."), flag("public-ip", "10.0.0.9")):
        sel = choose_external(host, cfg)
        if sel.error is None:
            assert sel.iface is not None and sel.address is not None
            assert any(a.address.ip == sel.address for a in host.interfaces[sel.iface].addresses)
        else:
            assert sel.reasoning
