"""The raw members of a bundle, read in memory under limits, with every refusal recorded.

The readers (tar and zip archives, directories) fill a `Members`; layout detection and source
mapping work on it and never touch the file system. Paths are relative, `/`-separated and
normalised; when every member sits under one top directory that directory is stripped (`top` keeps
its name), so a tarball and its extracted directory give the same member paths. Archives found
inside a directory are not read into memory: `nested` records where they are, for the reader to open
them as bundles of their own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from netsnap.bundle.jsondoc import loads
from netsnap.bundle.limits import RATIO_FLOOR, InputRefused, Limits, human_size, over

__all__ = ["Budget", "LimitReached", "Members", "clean_name", "human_size", "normalise_name", "unsafe_name_reason"]


class LimitReached(Exception):
    """Stop reading: a limit on the whole input was reached (the message names it and its flag)."""


@dataclass
class Members:
    """Member path -> raw bytes; symlink path -> target (recorded, never followed); problems."""

    data: dict[str, bytes] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    top: str | None = None
    sha256: str | None = None
    nested: dict[str, str] = field(default_factory=dict)  # member path -> file of an archive inside a directory
    limits: Limits = field(default_factory=Limits)
    _documents: dict[str, tuple[Any, str | None]] = field(default_factory=dict, repr=False)

    def strip_top(self) -> None:
        """Remove a single top directory shared by every member and link."""
        names = list(self.data) + list(self.links) + list(self.nested)
        if not names:
            return
        firsts = {n.split("/", 1)[0] for n in names}
        if len(firsts) != 1 or any("/" not in n for n in names):
            return
        top = firsts.pop()
        cut = len(top) + 1
        self.data = {n[cut:]: b for n, b in self.data.items()}
        self.links = {n[cut:]: t for n, t in self.links.items()}
        self.nested = {n[cut:]: p for n, p in self.nested.items()}
        self.top = top if self.top is None else f"{self.top}/{top}"

    def split(self) -> dict[str, Members]:
        """The members of each top-level directory, `top/` cut off, in one pass (problems naming a
        directory's members go with it; the others go to every part)."""
        parts: dict[str, Members] = {}
        for attr in ("data", "links", "nested"):
            for n, v in getattr(self, attr).items():
                top, sep, rest = n.partition("/")
                if sep:
                    part = parts.setdefault(top, Members(top=top, limits=self.limits))
                    getattr(part, attr)[rest] = v
        shared: list[str] = []
        for p in self.problems:
            owner = next((parts[t] for t in _named_tops(p) if t in parts), None)
            (owner.problems if owner else shared).append(p)
        for part in parts.values():
            part.problems[:0] = shared
            part.sha256 = part.tree_sha256()
        return dict(sorted(parts.items()))

    def document(self, rel: str) -> tuple[Any, str | None]:
        """The JSON value of member `rel` decoded under the limits (cached), and why it is unusable:
        (None, None) when absent, (None, problem) when it is not JSON or over a limit."""
        if rel not in self._documents:
            raw = self.data.get(rel)
            if raw is None:
                self._documents[rel] = (None, None)
            else:
                try:
                    self._documents[rel] = (loads(raw, rel, self.limits), None)
                except InputRefused as exc:
                    self._documents[rel] = (None, str(exc))
                except ValueError as exc:
                    self._documents[rel] = (None, f"{rel}: not valid JSON ({exc})")
        return self._documents[rel]

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
_NAMED = re.compile(r"(?:^skipped |^stopped reading at |^left out )([^/:\s]+)/")


def _named_tops(problem: str) -> list[str]:
    """The top-level directory a problem line names (`skipped master/x: symlink` -> master)."""
    return _NAMED.findall(problem)


def clean_name(name: str) -> str:
    """A member or host name safe to print on one line: undecodable bytes replaced, control characters
    shown as `\\xNN` (a name holding a newline or an escape sequence cannot forge report lines)."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def normalise_name(name: str) -> str:
    """Drop empty and `.` components: `./a//b/` -> `a/b`."""
    return "/".join(p for p in name.split("/") if p not in ("", "."))


def path_reason(name: str, limits: Limits) -> str | None:
    """Why a member path is not used for its length or depth (limits path-length, path-depth), or None."""
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > limits.path_length:
        return over("path-length", limits, f"path of {size:,} bytes")
    depth = name.count("/") + 1
    if depth > limits.path_depth:
        return over("path-depth", limits, f"{depth:,} levels deep")
    return None


class Budget:
    """Counts what one input costs against `Limits`: entries, bytes kept in memory, bytes decompressed.

    One Budget is shared by an input and the archives nested in it.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.count = 0
        self.kept = 0

    def enter(self, name: str) -> None:
        """Count one entry of any kind (directories, links, refused ones and archive headers too).

        Raises LimitReached past the members limit, so a flood of headers stops the read early.
        """
        self.count += 1
        if self.count > self.limits.members:
            raise LimitReached(f"stopped reading at {name}: " + over("members", self.limits))

    def admit(self, name: str, size: int) -> str | None:
        """Account for one regular member of `size` bytes to keep. Return a skip reason, or None to read it.

        Raises LimitReached when the bytes kept would exceed the bundle-size limit.
        """
        if size > self.limits.file_size:
            return over("file-size", self.limits, human_size(size))
        self.hold(name, size)
        return None

    def hold(self, name: str, size: int) -> None:
        """Count `size` bytes kept in memory (member data, tar extended headers)."""
        if self.kept + size > self.limits.bundle_size:
            raise LimitReached(f"stopped reading at {name}: " + over("bundle-size", self.limits))
        self.kept += size

    def scan(self, name: str, decompressed: int, compressed: int | None) -> None:
        """Check an archive's progress: `decompressed` bytes out of `compressed` bytes read (None: not
        compressed). Raises LimitReached past the archive-size limit or the compression ratio."""
        if decompressed > self.limits.archive_size:
            raise LimitReached(f"stopped reading at {name}: " + over("archive-size", self.limits))
        if compressed is not None and decompressed > RATIO_FLOOR and decompressed > self.limits.ratio * max(
                compressed, 1):
            ratio = decompressed // max(compressed, 1)
            raise LimitReached(f"stopped reading at {name}: " + over(
                "ratio", self.limits, f"compressed {ratio:,} to 1"))
