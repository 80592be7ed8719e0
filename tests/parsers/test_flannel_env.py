"""flannel env files: shell quoting, multi-line values, continuations, export, count check."""

from __future__ import annotations

import shlex

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.flannel_env import parse


def values(text: str) -> dict[str, tuple[str, int]]:
    return {fv.name: (fv.value, fv.src.line) for fv in parse(text, "flannel/etc-default-flanneld").items}


def test_incident_a_multi_line_value_is_one_variable() -> None:
    text = 'FLANNEL_OPTS="-etcd-endpoints=https://192.168.0.15:4003\n-iface=eth1 -public-ip=192.168.0.15\n"\nX=1\n'
    got = values(text)
    assert got["FLANNEL_OPTS"] == ("-etcd-endpoints=https://192.168.0.15:4003\n-iface=eth1 -public-ip=192.168.0.15\n",
                                   1)
    assert got["X"] == ("1", 4)


def test_a_quoted_line_that_looks_like_an_assignment_is_part_of_the_value() -> None:
    got = values('FLANNEL_OPTIONS="--iface=eth1\nFLANNELD_IFACE=eth0"\n')
    assert list(got) == ["FLANNEL_OPTIONS"]
    assert got["FLANNEL_OPTIONS"][0] == "--iface=eth1\nFLANNELD_IFACE=eth0"


def test_quoting_forms() -> None:
    got = values("A='single $x'\nexport B=\"dq \\\"q\\\" \\$y\"\nC=plain # comment\nD=a\\ b\nE=\nF=x\\\ny\n")
    assert got == {"A": ("single $x", 1), "B": ('dq "q" $y', 2), "C": ("plain", 3), "D": ("a b", 4), "E": ("", 5),
                   "F": ("xy", 6)}


def test_later_assignment_wins_but_both_are_items() -> None:
    result = parse("A=1\nA=2\n", "f")
    assert [(fv.value, fv.src.line) for fv in result.items] == [("1", 1), ("2", 2)]


def test_crlf_and_unterminated_quote() -> None:
    result = parse('A="x\r\nB=2\r\n', "f")
    assert [fv.name for fv in result.items] == ["A"]
    assert result.items[0].value == "x\nB=2\n"
    assert any("unterminated" in n for n in result.notes)


def test_non_shell_lines_are_unparsed_and_comments_understood() -> None:
    result = parse("# comment\nFOO BAR\nA=1\n", "f")
    assert [u.line for u in result.unparsed] == [2]
    assert result.expected == 1 == len(result.items)


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"), max_size=40))
def test_shell_quoted_values_round_trip(value: str) -> None:
    # shlex.quote produces POSIX single quoting; the reader must give the value back exactly
    text = f"FLANNEL_OPTIONS={shlex.quote(value)}\nNEXT=1\n"
    got = values(text)
    assert got["FLANNEL_OPTIONS"][0] == value
    assert got["NEXT"][0] == "1"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    parse(text, "f")
