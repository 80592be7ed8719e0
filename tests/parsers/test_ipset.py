"""ipset save / list parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.ipset import options_dict, parse


def test_save_format() -> None:
    text = ("create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\n"
            "add KUBE-CLUSTER-IP 10.96.0.1,tcp:443\nadd KUBE-CLUSTER-IP 10.96.0.10,udp:53\n"
            "create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\n")
    result = parse(text, "firewall/ipset-save")
    assert [(s.name, s.set_type, s.members, s.src.line) for s in result.items] == [
        ("KUBE-CLUSTER-IP", "hash:ip,port", ["10.96.0.1,tcp:443", "10.96.0.10,udp:53"], 1),
        ("KUBE-NODE-PORT-TCP", "bitmap:port", [], 4)]
    assert result.items[0].options == {"family": "inet", "hashsize": "1024", "maxelem": "65536"}
    assert result.expected == 2 and result.unparsed == []


def test_list_format_members_and_count_check() -> None:
    text = ("Name: S\nType: hash:net\nRevision: 6\nHeader: family inet hashsize 1024 maxelem 65536\n"
            "Size in memory: 504\nReferences: 1\nNumber of entries: 3\nMembers:\n10.0.0.0/8\n192.168.0.0/16\n")
    result = parse(text, "sos_commands/networking/ipset_list")
    assert [(s.name, s.set_type, s.members) for s in result.items] == [("S", "hash:net", ["10.0.0.0/8",
                                                                                         "192.168.0.0/16"])]
    assert result.notes == ["set S: 3 entries announced, 2 members read"]


def test_options_dict() -> None:
    assert options_dict("family inet6 counters comment timeout 30") == {"family": "inet6", "counters": "",
                                                                       "comment": "", "timeout": "30"}


def test_orphans_are_unparsed_or_noted() -> None:
    result = parse("add Y 10.0.0.2\nType: orphan\n10.0.0.3\n", "i")
    assert result.notes == ["line 1: add to undeclared set Y"]
    assert [u.line for u in result.unparsed] == [2, 3]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_raises(text: str) -> None:
    result = parse(text, "i")
    assert not any("parser failed" in n for n in result.notes)
