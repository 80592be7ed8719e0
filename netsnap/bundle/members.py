"""The raw members of a bundle, read in memory under limits, with every refusal recorded.

Both readers (tar archives and directories) fill a `Members`; layout detection and source mapping
work on it and never touch the file system. Paths are relative, `/`-separated and normalised; when
every member sits under one top directory that directory is stripped (`top` keeps its name), so a
tarball and its extracted directory give the same member paths.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from netsnap.bundle.model import Limits


class LimitReached(Exception):
    """Stop reading: the member count or the total size limit was hit (message says which)."""


@dataclass
class Members:
    """Member path -> raw bytes; symlink path -> target (recorded, never followed); problems."""

    data: dict[str, bytes] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    top: str | None = None
    sha256: str | None = None

    def strip_top(self) -> None:
        """Remove a single top directory shared by every member and link."""
        names = list(self.data) + list(self.links)
        if not names:
            return
        firsts = {n.split("/", 1)[0] for n in names}
        if len(firsts) != 1 or any("/" not in n for n in names):
            return
        top = firsts.pop()
        cut = len(top) + 1
        self.data = {n[cut:]: b for n, b in self.data.items()}
        self.links = {n[cut:]: t for n, t in self.links.items()}
        self.top = top

    def tree_sha256(self) -> str:
        """A stable hash over sorted member paths and contents (for directory bundles)."""
        h = hashlib.sha256()
        for name in sorted(self.data):
            h.update(name.encode("utf-8", "surrogateescape") + b"\0")
            h.update(hashlib.sha256(self.data[name]).digest())
        return h.hexdigest()


def unsafe_name_reason(name: str) -> str | None:
    """Why a member name must not be used ("absolute path", "path traversal"), or None."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        return "absolute path"
    if any(part == ".." for part in name.replace("\\", "/").split("/")):
        return "path traversal"
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_name(name: str) -> str:
    """A member or host name safe to print on one line: undecodable bytes replaced, control characters
    shown as `\\xNN` (a name holding a newline or an escape sequence cannot forge report lines)."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def normalise_name(name: str) -> str:
    """Drop empty and `.` components: `./a//b/` -> `a/b`."""
    return "/".join(p for p in name.split("/") if p not in ("", "."))


def human_size(n: int) -> str:
    """`512 MiB`, `1.5 KiB`, `12 bytes`."""
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


class Budget:
    """Counts members and bytes against `Limits`; decides to read, skip or stop."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.count = 0
        self.total = 0

    def enter(self, name: str) -> None:
        """Count one member of any kind (directories, links and refused ones too).

        Raises LimitReached past `max_members`, so a flood of headers stops the read early.
        """
        self.count += 1
        if self.count > self.limits.max_members:
            raise LimitReached(f"stopped reading at {name}: more than {self.limits.max_members} members")

    def admit(self, name: str, size: int) -> str | None:
        """Account for one regular member of `size` bytes. Return a skip reason, or None to read it.

        Raises LimitReached when the total size would exceed the limit; an oversized member is
        skipped but its size still counts toward the total, so a decompression bomb made of huge
        members stops the read instead of being decompressed to the end.
        """
        if self.total + size > self.limits.max_total_size:
            raise LimitReached(
                f"stopped reading at {name}: total size would exceed {human_size(self.limits.max_total_size)}"
            )
        self.total += size
        if size > self.limits.max_member_size:
            return f"too large ({human_size(size)} > {human_size(self.limits.max_member_size)})"
        return None
