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


def is_flannel_line(line: str) -> bool:
    """True for a journal line written by flannel (or by k3s about flannel)."""
    m = JOURNAL_LINE.match(line)
    if not m:
        return False
    ident = m.group("ident")
    if ident in FLANNEL_IDENTIFIERS:
        return True
    return ident in ("k3s", "systemd") and "flannel" in m.group("msg").lower()


def is_marker(line: str) -> bool:
    return line.startswith("-- ") and line.rstrip().endswith("--")


def filter_flannel(text: str) -> tuple[str, list[int]]:
    """Return flannel's lines of `text` and, for each, its 1-based line number in `text`.

    Markers are kept only once some flannel line was seen, and never two in a row, so a journal
    without flannel lines gives empty text.
    """
    kept: list[str] = []
    line_map: list[int] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(split_lines(text), start=1):
        if is_marker(line):
            pending = (number, line) if kept else None
            continue
        if is_flannel_line(line):
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
