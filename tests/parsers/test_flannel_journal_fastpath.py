"""The journal's Python fast path must read a line exactly as the TTP template does, or leave it to TTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.flannel_journal import _journal_line
from netsnap.parsers.ttp_runner import run_template

ROOT = Path(__file__).resolve().parents[2]


def _ttp(line: str) -> list[dict[str, Any]]:
    records, _unparsed, _ = run_template("flannel_journal", line, "lines")
    return [{k: v for k, v in rec.items() if k != "ln"} for rec in records]


def _agrees(line: str) -> bool:
    fast = _journal_line(line)
    return fast is None or _ttp(line) == [fast]


def _fixture_lines() -> list[str]:
    lines: list[str] = []
    paths = sorted(ROOT.glob("fixtures/**/flannel/journal")) + sorted(ROOT.glob("tests/parsers/fixtures/flannel_*/*"))
    for path in paths:
        if path.is_file() and not path.name.endswith(".json"):
            lines += path.read_text(errors="replace").splitlines()
    return lines


def test_every_fixture_journal_line_reads_the_same() -> None:
    lines = _fixture_lines()
    assert len(lines) > 100
    fast = [line for line in lines if _journal_line(line) is not None]
    assert len(fast) > 50  # the fast path is really used
    disagree = [line for line in lines if not _agrees(line)]
    assert disagree == []


_month = st.sampled_from(["Nov", "Jan", "nov", "NOV", "Nov."])
_day = st.sampled_from(["6", "06", "26", " 6", "126", "x"])
_clock = st.sampled_from(["10:00:01", "10:00:01.123456", "10:00", "1:00:01", "10:00:01.", "10:00:01,5"])
_iso = st.sampled_from(["2026-11-26T10:00:01+0000", "2026-11-26T10:00:01.123456+01:00", "2026-11-26T10:00:01Z",
                        "2026-11-26 10:00:01", "26-11-26T10:00:01Z", "2026-11-26T10:00:01"])
_host = st.sampled_from(["master", "node-1.example", "a:b", "ü", "x\ty", ""])
_ident = st.sampled_from(["flanneld[123]", "flanneld", "flanneld-start[1829]", "k3s[9]", "a:b[1]", "systemd[1]", ""])
_msg = st.text(alphabet=st.sampled_from(list("abc :[]{}=\"\\.\t -ü1\u00a0\x1c\u2003")), max_size=30)
_sep = st.sampled_from([" ", " ", " ", " ", "  ", "\t", ": "])


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.tuples(_month, _sep, _day, _sep, _clock, _sep, _host, _sep, _ident, st.sampled_from([": ", ":", " : "]), _msg),
    st.tuples(_iso, _sep, _host, _sep, _ident, st.sampled_from([": ", ":", " : "]), _msg),
))
def test_generated_journal_lines_read_the_same(parts: tuple[str, ...]) -> None:
    assert _agrees("".join(parts))


TRICKY = [
    "Nov 26 10:00:01 master flanneld[1]: msg: with: colons [and] brackets",
    "Nov 6 10:00:01 master flanneld[1]: ",
    "Nov 26 10:00:01 master flanneld[1]:  two spaces after the colon",
    "Nov 26 10:00:01.123456 m kube-flannel: I1126 10:00:01.123456       1 main.go:211] x",
    "2026-11-26T10:00:01.123456789+0000 m flanneld[9]: \"quoted\" üñí",
    "2026-11-26T10:00:01Z m flanneld[9]: ends with a backslash \\",
    "2026-11-26T10:00:01+0000 m a:b[9]: ident with a colon",
    "Nov 26 10:00:01 host-with:colon flanneld: m",
    "Nov 26 10:00:01 m flanneld[1]: msg -- looks like -- a marker --",
    "Nov 26 10:00:01 m flanneld[1]: ==> /var/log/x <==",
    *(f"Nov 26 10:00:01 m flanneld[1]: a{ch}b" for ch in "\x1c\u2028\x0b\x0c\x85\x1e\u2029\u00a0"),
]


def test_tricky_lines_read_the_same() -> None:
    for line in TRICKY:
        assert _agrees(line), line
    assert sum(_journal_line(line) is not None for line in TRICKY) >= 7
