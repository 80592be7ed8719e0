"""sysctl parser: value shapes, error lines as notes, garbage."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.sysctl import parse


def test_shapes() -> None:
    text = ("net.ipv4.ip_forward = 1\nnet.ipv4.ip_local_port_range = 32768\t60999\n"
            "net.bridge.bridge-nf-call-iptables=1\nkernel.domainname =\nkernel.x = a = b\n")
    result = parse(text, "kernel/sysctl")
    assert [(s.key, s.value, s.src.line) for s in result.items] == [
        ("net.ipv4.ip_forward", "1", 1), ("net.ipv4.ip_local_port_range", "32768\t60999", 2),
        ("net.bridge.bridge-nf-call-iptables", "1", 3), ("kernel.domainname", "", 4), ("kernel.x", "a = b", 5)]
    assert result.expected == 5 and result.unparsed == []


def test_permission_denied_is_a_note_not_an_item_nor_unparsed() -> None:
    result = parse("sysctl: permission denied on key 'fs.protected_regular', ignoring\n"
                   "error: permission denied on key 'net.ipv4.route.flush'\n", "s")
    assert result.items == [] and result.unparsed == []
    assert result.notes == ["key not readable: fs.protected_regular", "key not readable: net.ipv4.route.flush"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises_and_lines_are_accounted(text: str) -> None:
    result = parse(text, "s")
    assert not any("parser failed" in n for n in result.notes)
    assert len(result.items) == result.expected
