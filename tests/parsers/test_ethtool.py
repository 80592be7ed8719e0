"""ethtool -k parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.ethtool import parse


def test_devices_sub_features_fixed_and_requested() -> None:
    text = ("Features for flannel.1:\nrx-checksumming: on\ntx-checksumming: on\n\ttx-checksum-ipv4: off [fixed]\n"
            "\ttx-checksum-ip-generic: on\nFeatures for eth0:\nrx-vlan-filter: off [requested on]\n"
            "Cannot get device udp-fragmentation-offload settings: Operation not supported\n")
    result = parse(text, "kernel/ethtool-k")
    got = [(f.dev, f.name, f.enabled, f.fixed, f.src.line) for f in result.items]
    assert got == [("flannel.1", "rx-checksumming", True, False, 2), ("flannel.1", "tx-checksumming", True, False, 3),
                   ("flannel.1", "tx-checksum-ipv4", False, True, 4),
                   ("flannel.1", "tx-checksum-ip-generic", True, False, 5),
                   ("eth0", "rx-vlan-filter", False, False, 7)]
    assert result.unparsed == [] and result.expected == 5


def test_feature_before_any_device_is_unparsed() -> None:
    result = parse("rx-checksumming: on\n", "e")
    assert result.items == [] and [u.line for u in result.unparsed] == [1]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    result = parse(text, "e")
    assert not any("parser failed" in n for n in result.notes)
