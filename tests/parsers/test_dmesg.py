"""dmesg parser: events of interest, timestamps, what counts as a kernel line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.dmesg import classify, parse


@pytest.mark.parametrize(("message", "kind"), [
    ("nf_conntrack: table full, dropping packet", "conntrack-full"),
    ("nf_conntrack: nf_conntrack: table full, dropping packet", "conntrack-full"),
    ("ip_conntrack: table full, dropping packet.", "conntrack-full"),
    ("UDP: bad checksum. From 10.0.0.5:35000 to 10.0.0.6:8472 ulen 110", "bad-checksum"),
    ("IPv6: ADDRCONF(NETDEV_UP): eth0: link is not ready", None),
])
def test_classify(message: str, kind: str | None) -> None:
    found = classify(message)
    assert (found[0] if found else None) == kind


def test_bad_checksum_fields_and_timestamps() -> None:
    text = ("[12400.000000] UDP: bad checksum. From 10.0.0.5:35000 to 10.0.0.6:8472 ulen 110\n"
            "[Thu Nov 26 10:00:00 2026] nf_conntrack: table full, dropping packet\n"
            "nf_conntrack: table full, dropping packet\n")
    events = parse(text, "kernel/dmesg").items
    assert [(e.kind, e.timestamp, e.src.line) for e in events] == [
        ("bad-checksum", "12400.000000", 1), ("conntrack-full", "Thu Nov 26 10:00:00 2026", 2),
        ("conntrack-full", None, 3)]
    assert events[0].fields == {"src": "10.0.0.5", "sport": "35000", "dst": "10.0.0.6", "dport": "8472", "ulen": "110"}


def test_other_kernel_lines_are_understood_garbage_is_unparsed() -> None:
    text = "[    0.000000] Linux version 5.4\neth0: renamed from veth1234\n[12.5 truncated\n!!!\n"
    result = parse(text, "d")
    assert result.items == []
    assert [u.line for u in result.unparsed] == [3, 4]


def test_keyword_without_a_full_match_shows_in_the_count_check() -> None:
    result = parse("UDP: bad checksum. From 10.0.0.5:35000 to\n", "d")
    assert result.expected == 1 and result.items == [] and result.notes


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    result = parse(text, "d")
    assert not any("parser failed" in n for n in result.notes)
