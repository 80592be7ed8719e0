"""Reading a tar archive (plain, gzip, bzip2 or xz, detected by content) member by member in memory.

Nothing is extracted: members are visited in order (the compression named by the file's first
bytes, whatever its extension), each regular member's bytes are kept in memory under `Limits`, and
every other member (symlink, hard link, device, fifo) or unsafe name (absolute, `..`) is skipped and
reported. Symlink targets are recorded in `Members.links` so layout
code can recognise sos's "tailed" files, but they are never followed.

Corrupt or truncated archives: if nothing could be read, `BundleError` (one line naming the file);
if some members were read first, they are kept and the truncation is reported in the problems, so a
customer's half-uploaded tarball still shows what it holds.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import tarfile
import zlib
from typing import BinaryIO

from netsnap.bundle.members import Budget, LimitReached, Members, clean_name, normalise_name, unsafe_name_reason
from netsnap.bundle.model import BundleError, Limits

_CORRUPT = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)

_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PK\x03\x04": "zip",
}


def compression_of(head: bytes) -> str | None:
    """The compression or container format named by the first bytes, or None for anything else."""
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def is_tar_header(head: bytes) -> bool:
    """True when `head` (at least 512 bytes) starts with a ustar/GNU tar header."""
    return len(head) >= 263 and head[257:262] == b"ustar"


def _skip_reason(member: tarfile.TarInfo) -> str | None:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hard link"
    if member.ischr() or member.isblk():
        return "device file"
    if member.isfifo():
        return "fifo"
    if not member.isreg():
        return "unsupported member type"
    return None


def read_archive(path: str | os.PathLike[str], limits: Limits) -> Members:
    """Read every acceptable member of the tar archive at `path` into memory."""
    name = os.fspath(path)
    try:
        fh = open(name, "rb")  # noqa: SIM115 - closed in finally below
    except OSError as exc:
        raise BundleError(f"{name}: cannot open: {exc.strerror or exc}") from None
    try:
        head = fh.read(512)
        if not head:
            raise BundleError(f"{name}: empty file")
        kind = compression_of(head)
        if kind in ("zstd", "zip"):
            raise BundleError(f"{name}: {kind} archives are not supported (use .tar, .tar.gz or .tar.xz)")
        if kind is None and not is_tar_header(head):
            raise BundleError(f"{name}: not a tar archive (nor a directory of a bundle)")
        fh.seek(0)
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
        fh.seek(0)
        members = Members(sha256=digest)
        _read_members(name, fh, f"r:{kind or ''}", limits, members)
        return members
    finally:
        fh.close()


def _read_members(name: str, fh: BinaryIO, mode: str, limits: Limits, members: Members) -> None:
    budget = Budget(limits)
    seen = 0
    try:
        with tarfile.open(fileobj=fh, mode=mode) as tar:  # type: ignore[call-overload]
            for member in tar:
                seen += 1
                _read_one(tar, member, budget, members)
    except LimitReached as exc:
        members.problems.append(str(exc))
    except _CORRUPT as exc:
        detail = str(exc) or type(exc).__name__
        if not members.data and seen == 0 and isinstance(exc, tarfile.ReadError) and "header" in detail:
            raise BundleError(f"{name}: not a tar archive inside the compressed stream ({detail})") from None
        if not members.data:
            raise BundleError(f"{name}: corrupt or truncated archive ({detail})") from None
        members.problems.append(
            f"{name}: archive is truncated or corrupt after {seen} members ({detail}); kept what was read"
        )


def _read_one(tar: tarfile.TarFile, member: tarfile.TarInfo, budget: Budget, members: Members) -> None:
    raw_name = clean_name(member.name)
    budget.enter(raw_name)
    if member.isdir():
        return
    reason = unsafe_name_reason(raw_name)
    if reason:
        members.problems.append(f"skipped {raw_name}: {reason}")
        return
    rel = normalise_name(raw_name)
    if not rel:
        return
    reason = _skip_reason(member)
    if reason:
        if member.issym():
            members.links[rel] = clean_name(member.linkname)
        members.problems.append(f"skipped {rel}: {reason}")
        return
    reason = budget.admit(rel, member.size)
    if reason:
        members.problems.append(f"skipped {rel}: {reason}")
        return
    if rel in members.data:
        members.problems.append(f"skipped {rel}: duplicate member (kept the first)")
        return
    stream = tar.extractfile(member)
    if stream is None:  # pragma: no cover - regular members always have a stream
        return
    members.data[rel] = stream.read(budget.limits.max_member_size + 1)[: member.size]
