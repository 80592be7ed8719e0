"""lsmod and /proc/modules parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.lsmod import parse


def test_lsmod_and_proc_modules_rows() -> None:
    text = ("Module                  Size  Used by\nvxlan                  98304  0\n"
            "nf_conntrack          180224  6 xt_conntrack,nf_nat\n"
            "br_netfilter 32768 0 - Live 0xffffffffc0a1b000\n"
            "nf_nat 49152 3 xt_MASQUERADE,iptable_nat, Live 0x0000000000000000 (OE)\n")
    result = parse(text, "kernel/lsmod")
    got = [(m.name, m.size, m.used_by_count, m.used_by, m.src.line) for m in result.items]
    assert got == [("vxlan", 98304, 0, [], 2), ("nf_conntrack", 180224, 6, ["xt_conntrack", "nf_nat"], 3),
                   ("br_netfilter", 32768, 0, [], 4), ("nf_nat", 49152, 3, ["xt_MASQUERADE", "iptable_nat"], 5)]
    assert result.unparsed == [] and result.expected == 4


def test_bad_rows_are_unparsed() -> None:
    result = parse("Module Size Used by\nvxlan big 0\nonlyname\n", "l")
    assert [u.line for u in result.unparsed] == [2, 3] and result.items == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    result = parse(text, "l")
    assert not any("parser failed" in n for n in result.notes)
