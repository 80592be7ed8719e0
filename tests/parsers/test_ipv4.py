"""The fast IPv4Network construction must give values indistinguishable from the stdlib's."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netsnap.model.iptables import AddrMatch
from netsnap.parsers import ipv4
from netsnap.parsers.ipv4 import network


def test_the_shortcut_is_in_use_on_this_python() -> None:
    assert ipv4._build is ipv4._shortcut


@given(st.integers(0, 2**32 - 1), st.integers(0, 32), st.booleans())
def test_equals_the_stdlib(value: int, plen: int, with_prefix: bool) -> None:
    text = str(IPv4Address(value)) + (f"/{plen}" if with_prefix else "")
    ours, ref = network(text), ip_network(text, strict=False)
    assert isinstance(ours, IPv4Network)
    assert (ours, hash(ours), str(ours), repr(ours)) == (ref, hash(ref), str(ref), repr(ref))
    assert (ours.network_address, ours.broadcast_address, ours.netmask, ours.prefixlen) == (
        ref.network_address, ref.broadcast_address, ref.netmask, ref.prefixlen)
    assert AddrMatch(net=ours).model_dump_json() == AddrMatch(net=ref).model_dump_json()


@pytest.mark.parametrize("text", ["010.0.0.1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/33", "1.2.3.4/",
                                  "1.2.3.4/08", "::1", "10.0.0.0/255.0.0.0", "a.b.c.d", " 1.2.3.4", "１.2.3.4"])
def test_other_texts_are_left_to_the_stdlib(text: str) -> None:
    assert network(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("10.244.1.7", IPv4Address("10.244.1.7")), ("0.0.0.0", IPv4Address(0)),
    ("999.1.1.10", None), ("010.0.0.1", None), ("10.0.0.0/8", None), ("1.2.3", None), ("", None),
    ("node1", None), ("10.0.0.1 ", None),
])
def test_address_of_free_text_is_a_dotted_quad_or_none(text: str, expected: IPv4Address | None) -> None:
    assert ipv4.address(text) == expected
