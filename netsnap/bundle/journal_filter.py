"""Cutting a full system journal down to flannel's lines, remembering where each line came from.

A sosreport holds the whole journal (`sos_commands/logs/journalctl_--no-pager`); no plugin collects
`journalctl -u flanneld`. flannel's lines are those whose syslog identifier is one flannel runs
under (flanneld, flanneld-start, flannel, sdnotify-proxy, flannel-wrapper), or k3s and systemd lines
mentioning flannel (k3s runs flannel in-process; systemd tells when the unit started, failed or exited).
Journal markers (`-- Reboot --`, `-- Logs begin ...`) are kept as boot boundaries.
"""

from __future__ import annotations

import re

FLANNEL_IDENTIFIERS = frozenset({"flanneld", "flanneld-start", "flannel", "sdnotify-proxy", "flannel-wrapper"})

# "Nov 26 12:00:00 host ident[pid]: msg" (short) or "2026-11-26T12:00:00+0000 host ident[pid]: msg" (short-iso)
JOURNAL_LINE = re.compile(
    r"^(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S*)"
    r"\s+(?P<host>\S+)\s+(?P<ident>[^\s\[:]+)(?:\[\d+\])?:\s?(?P<msg>.*)$"
)


def split_lines(text: str) -> list[str]:
    """Lines as the parsers number them: split on LF after turning CRLF and lone CR into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _may_be_flannel(line: str) -> bool:
    """A cheap pre-check: every flannel line names flannel somewhere, or comes from sdnotify-proxy."""
    return "lannel" in line or "LANNEL" in line or "sdnotify-proxy" in line


def is_flannel_line(line: str) -> bool:
    """True for a journal line written by flannel (or by k3s or systemd about flannel)."""
    if not _may_be_flannel(line):
        return False
    m = JOURNAL_LINE.match(line)
    if not m:
        return False
    ident = m.group("ident")
    if ident in FLANNEL_IDENTIFIERS:
        return True
    return ident in ("k3s", "systemd") and "flannel" in m.group("msg").lower()


def is_marker(line: str) -> bool:
    return line.startswith("-- ") and line.rstrip().endswith("--")


_CANDIDATE_WORDS = ("lannel", "LANNEL", "sdnotify-proxy")


def _candidate_starts(text: str) -> list[int]:
    """Start offsets of the lines that may be flannel lines or journal markers (plain `str.find`
    scans: a regex alternation was 15x slower on a 30 MB journal)."""
    starts: set[int] = {0} if text.startswith("-- ") else set()
    for word in _CANDIDATE_WORDS:
        i = text.find(word)
        while i >= 0:
            start = text.rfind("\n", 0, i) + 1
            starts.add(start)
            end = text.find("\n", i)
            i = -1 if end < 0 else text.find(word, end)
    i = text.find("\n-- ")
    while i >= 0:
        starts.add(i + 1)
        i = text.find("\n-- ", i + 1)
    return sorted(starts)


def count_lines(text: str) -> int:
    """How many lines `split_lines` would give, not counting the empty one after a final newline."""
    lf = text.count("\n") + text.count("\r") - text.count("\r\n")
    return lf + (0 if text.endswith(("\n", "\r")) or not text else 1)


def filter_flannel(text: str) -> tuple[str, list[int]]:
    """Return flannel's lines of `text` and, for each, its 1-based line number in `text`.

    Markers are kept only between flannel lines, never two in a row, so a journal without flannel
    lines gives empty text. Only lines holding a candidate word are looked at (found by `str.find`),
    so a 30 MB journal is filtered in well under a second.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    line_map: list[int] = []
    pending: tuple[int, str] | None = None
    number, counted_to = 1, 0
    for start in _candidate_starts(text):
        number += text.count("\n", counted_to, start)
        counted_to = start
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        if line.startswith("-- ") and is_marker(line):
            pending = (number, line) if kept else None
        elif is_flannel_line(line):
            if pending is not None:
                kept.append(pending[1])
                line_map.append(pending[0])
                pending = None
            kept.append(line)
            line_map.append(number)
    return ("\n".join(kept) + "\n" if kept else ""), line_map


def journal_host(text: str) -> str | None:
    """The host field of the first flannel journal line in `text`, if any."""
    for line in split_lines(text):
        m = JOURNAL_LINE.match(line)
        if m and is_flannel_line(line):
            return m.group("host")
    return None
