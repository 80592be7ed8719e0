"""The flannel journal filter keeps exactly flannel's lines and maps each back to its real line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.bundle.journal_filter import count_lines, filter_flannel, is_flannel_line, journal_host, split_lines

LINES = [
    "Nov 26 08:00:07 w2 flanneld[812]: I1126 main.go:488] Using interface with name eth1",
    "Nov 26 08:00:07 w2 flanneld-start[812]: E1126 main.go:1] Failed to find interface",
    "2026-11-26T08:00:07+0000 w2 flannel-wrapper[5]: starting",
    "2026-11-26T08:00:07.123456+00:00 w2 sdnotify-proxy[9]: I1126 ready",
    'Nov 26 08:00:07 w2 k3s[700]: time="x" level=info msg="Starting flannel with backend vxlan"',
    "Nov 26 08:00:07 w2 k3s[700]: I1126 kubelet things",
    "Nov 26 08:00:09 w2 systemd[1]: Started Flanneld overlay address etcd agent.",
    "Nov 26 08:00:09 w2 systemd[1]: Started Session 3 of user root.",
    "Nov 26 08:00:08 w2 kubelet[900]: flannel subnet file missing",  # mentions flannel, not flannel's
    "Nov 26 08:00:08 w2 sshd[1]: Accepted publickey",
    "-- Reboot --",
    "-- Logs begin at Thu 2026-11-26 08:00:00 UTC. --",
    "",
    "garbage flanneld line without a header",
]
FLANNEL = {0, 1, 2, 3, 4, 6}


def test_identifiers() -> None:
    assert {i for i, line in enumerate(LINES) if is_flannel_line(line)} == FLANNEL


def _reference(text: str) -> tuple[str, list[int]]:
    """The obvious per-line implementation the fast one must agree with."""
    kept: list[str] = []
    numbers: list[int] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(split_lines(text), start=1):
        if line.startswith("-- ") and line.rstrip().endswith("--"):
            pending = (number, line) if kept else None
        elif is_flannel_line(line):
            if pending:
                kept.append(pending[1])
                numbers.append(pending[0])
                pending = None
            kept.append(line)
            numbers.append(number)
    return ("\n".join(kept) + "\n" if kept else ""), numbers


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=40), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_agrees_with_the_per_line_reference(lines: list[str], eol: str, final_eol: bool) -> None:
    text = eol.join(lines) + (eol if final_eol else "")
    filtered, line_map = filter_flannel(text)
    assert (filtered, line_map) == _reference(text)
    real = split_lines(text)
    for i, line in enumerate(split_lines(filtered.removesuffix("\n")) if filtered else [], start=1):
        assert real[line_map[i - 1] - 1] == line


def test_markers_only_between_flannel_lines() -> None:
    text = "\n".join([LINES[11], LINES[9], LINES[0], LINES[10], LINES[10], LINES[9], LINES[1], LINES[10]]) + "\n"
    filtered, line_map = filter_flannel(text)
    assert filtered.splitlines() == [LINES[0], LINES[10], LINES[1]]
    assert line_map == [3, 5, 7]


def test_count_lines() -> None:
    assert count_lines("") == 0
    assert count_lines("a") == 1
    assert count_lines("a\nb\n") == 2
    assert count_lines("a\r\nb\rc") == 3


def test_journal_host() -> None:
    assert journal_host("\n".join([LINES[9], LINES[0]])) == "w2"
    assert journal_host(LINES[9]) is None
