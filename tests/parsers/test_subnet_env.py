"""subnet.env: typed keys, IPv6 keys kept, bad values unparsed with a note."""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.subnet_env import parse


def test_typed_values_and_lines() -> None:
    result = parse("FLANNEL_NETWORK=172.18.0.0/16\nFLANNEL_SUBNET=172.18.100.1/24\nFLANNEL_MTU=1450\n"
                   "FLANNEL_IPMASQ=false\nFLANNEL_IPV6_SUBNET=fd00::1/64\n", "flannel/subnet.env")
    [env] = result.items
    assert env.network == IPv4Network("172.18.0.0/16")
    assert env.subnet == IPv4Interface("172.18.100.1/24")
    assert env.subnet.network == IPv4Network("172.18.100.0/24")
    assert (env.mtu, env.ipmasq) == (1450, False)
    assert env.values["FLANNEL_IPV6_SUBNET"] == "fd00::1/64"
    assert env.lines == {"FLANNEL_NETWORK": 1, "FLANNEL_SUBNET": 2, "FLANNEL_MTU": 3, "FLANNEL_IPMASQ": 4,
                         "FLANNEL_IPV6_SUBNET": 5}
    assert result.unparsed == []


def test_bad_value_leaves_field_none_and_line_unparsed() -> None:
    result = parse("FLANNEL_MTU=big\nFLANNEL_NETWORK=10.0.0.0/8\n", "s")
    [env] = result.items
    assert env.mtu is None and env.network == IPv4Network("10.0.0.0/8")
    assert [u.line for u in result.unparsed] == [1]
    assert result.notes and "FLANNEL_MTU" in result.notes[0]


def test_empty_file_has_no_item() -> None:
    assert parse("", "s").items == []
    assert parse("\n\n", "s").unparsed == []


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_never_raises(text: str) -> None:
    assert len(parse("FLANNEL_MTU=" + text, "s").items) <= 1
