"""What the bundle reader hands to the parsers: one text per logical source, plus what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from netsnap.bundle.limits import InputRefused, Limits
from netsnap.model.host import SourceState

__all__ = ["Bundle", "BundleError", "Limits", "SourceFile"]


class BundleError(InputRefused):
    """A bundle that cannot be opened at all. str() is a one-line message naming the file."""


@dataclass
class SourceFile:
    """One logical source found in a bundle.

    `file` is the member path inside the bundle (used for provenance); `text` is decoded with
    undecodable bytes replaced (`replaced_bytes` counts them). `state` and the manifest fields come
    from the collector manifest or the sos manifest when there is one.

    `line_map` is set when `text` is a filtered extract of `file` (a sosreport's full journal cut down
    to flannel's lines): line i of `text` (1-based) is line `line_map[i - 1]` of `file`. It is None
    when `text` is the whole file, line for line; `file_line()` maps either way.

    `parts` is set when `text` joins several members (a sosreport's `ethtool_-k_DEV` file of each
    device, its modprobe.d files): `(member, lines)` in order, each member's text ending with a newline.
    `file` then names the pattern; `locate()` gives the member and its line for a line of `text`.
    """

    source: str
    file: str
    text: str
    state: SourceState = SourceState.OK
    command: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None
    sha256: str | None = None
    size: int = 0
    replaced_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    line_map: list[int] | None = None
    parts: list[tuple[str, int]] | None = None

    def locate(self, line: int) -> tuple[str, int]:
        """The member and its line that line `line` of `text` came from (line 0 stays 0, the whole file)."""
        if self.parts is None or line <= 0:
            return self.file, self.file_line(line)
        offset = 0
        for member, count in self.parts:
            if line <= offset + count:
                return member, line - offset
            offset += count
        return self.file, 0

    def file_line(self, line: int) -> int:
        """The line of `file` that line `line` of `text` came from (0, the whole file, stays 0)."""
        if self.line_map is None or line <= 0:
            return line
        return self.line_map[line - 1] if line <= len(self.line_map) else 0


@dataclass
class Bundle:
    """One opened bundle: a host's sources keyed by source id.

    `missing` records sources known to be absent and why (from the manifest: command missing, timed
    out...); sources in neither `files` nor `missing` were not collected. `members` keeps every
    readable text member (for the report's raw-file appendix); `problems` lists skipped or refused
    members ("skipped ../etc/passwd: path traversal"). `namespaces` lists, for a sosreport, the other
    network namespaces sos ran commands in (name -> their files): never part of the host's state.
    """

    path: str
    kind: str  # "collector" | "sosreport" | "loose"
    host: str
    sha256: str | None = None
    collector_version: str | None = None
    collected_at: str | None = None
    redactions: int = 0
    files: dict[str, SourceFile] = field(default_factory=dict)
    missing: dict[str, SourceFile] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    namespaces: dict[str, list[str]] = field(default_factory=dict)
