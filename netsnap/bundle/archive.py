"""Reading an archive (tar: plain, gzip, bzip2 or xz; or zip, detected by content) member by member in memory.

Nothing is extracted: members are visited in order, each regular member's bytes are kept in memory
under `Limits`, and every other member (symlink, hard link, device, fifo, sparse file) or unsafe
name (absolute, `..`, too long, too deep) is skipped and reported. Symlink targets are recorded in
`Members.links` so layout code can recognise sos's "tailed" files, but they are never followed.

What the archive itself declares is bounded before it costs anything: a tar extended header (GNU
long name or link, PAX records) larger than the header-size limit, a chain of extended headers,
and GNU sparse maps stop the read at that header, before tarfile would read them; a zip whose
central directory lists more entries than the members limit allows is refused before zipfile
parses it. While reading, the bytes decompressed (archive-size) and the compression ratio are
checked after every member, and members count against the members and bundle-size limits.

Corrupt or truncated archives: if nothing could be read, `BundleError` (one line naming the file);
if some members were read first, they are kept and the truncation is reported in the problems, so a
customer's half-uploaded tarball still shows what it holds.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from typing import Any, BinaryIO

from netsnap.bundle.limits import RATIO_FLOOR, InputRefused, Limits, human_size, over
from netsnap.bundle.members import (
    Budget,
    LimitReached,
    Members,
    clean_name,
    normalise_name,
    path_reason,
    unsafe_name_reason,
)
from netsnap.bundle.model import BundleError
from netsnap.bundle.regular import open_regular

_CORRUPT = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError, IndexError,
            zipfile.BadZipFile, NotImplementedError, RuntimeError)

_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",  # an empty zip
}
_EXTENDED = {
    tarfile.GNUTYPE_LONGNAME: "GNU long name", tarfile.GNUTYPE_LONGLINK: "GNU long link",
    tarfile.XHDTYPE: "PAX", tarfile.XGLTYPE: "PAX global", tarfile.SOLARIS_XHDTYPE: "Solaris extended",
}
MAX_HEADER_CHAIN = 8  # extended headers in a row before one member (GNU tar writes at most 3)
ZIP_ENTRY_BYTES = 512  # central directory bytes allowed per entry of the members limit


def compression_of(head: bytes) -> str | None:
    """The compression or container format named by the first bytes, or None for anything else."""
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def is_tar_header(head: bytes) -> bool:
    """True when `head` (at least 512 bytes) starts with a ustar/GNU tar header."""
    return len(head) >= 263 and head[257:262] == b"ustar"


def is_archive(head: bytes) -> bool:
    """True when `head` starts an archive netsnap opens (tar, compressed tar, zip)."""
    return compression_of(head) not in (None, "zstd") or is_tar_header(head)


class _Counting(io.RawIOBase):
    """A read-only view of a binary file that counts the bytes read from it (compressed bytes)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.raw.read(len(b))
        b[: len(data)] = data
        self.count += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()


def read_archive(path: str | os.PathLike[str], limits: Limits, budget: Budget | None = None) -> Members:
    """Read every acceptable member of the archive file at `path` into memory."""
    name = os.fspath(path)
    shown = clean_name(name)
    try:
        fd, st = open_regular(name, name=shown)
    except InputRefused as exc:
        raise BundleError(str(exc)) from None
    except OSError as exc:
        raise BundleError(f"{shown}: cannot open: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        try:
            head = fh.read(512)
            if st.st_size > limits.archive_size:
                raise BundleError(f"{shown}: " + over("archive-size", limits, human_size(st.st_size)))
            fh.seek(0)
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
            fh.seek(0)
        except OSError as exc:
            raise BundleError(f"{shown}: cannot read: {exc.strerror or exc}") from None
        return read_stream(fh, shown, head, limits, budget or Budget(limits), digest)


def read_archive_bytes(data: bytes, name: str, limits: Limits, budget: Budget) -> Members:
    """Read an archive held in memory (a member of another archive)."""
    return read_stream(io.BytesIO(data), name, data[:512], limits, budget, hashlib.sha256(data).hexdigest())


def read_stream(fh: BinaryIO, name: str, head: bytes, limits: Limits, budget: Budget, digest: str) -> Members:
    """Read the archive `fh` starts (its first bytes `head`); `name` is printable."""
    if not head:
        raise BundleError(f"{name}: empty file")
    kind = compression_of(head)
    if kind == "zstd":
        raise BundleError(f"{name}: zstd archives are not supported (use .tar, .tar.gz, .tar.xz or .zip)")
    if kind is None and not is_tar_header(head):
        raise BundleError(f"{name}: not an archive netsnap reads (tar, tar.gz, tar.xz, tar.bz2 or zip), "
                          "nor a directory of a bundle")
    members = Members(sha256=digest, limits=limits)
    if kind == "zip":
        _read_zip(name, fh, budget, members)
    else:
        _read_tar(name, fh, kind, budget, members)
    return members


# ---------------------------------------------------------------- tar


def _bounded_tarinfo(budget: Budget) -> type[tarfile.TarInfo]:
    """A TarInfo class that checks extended headers and sparse maps before tarfile reads them."""
    limits = budget.limits
    chain = [0]

    class BoundedTarInfo(tarfile.TarInfo):
        def _proc_member(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
            label = clean_name(self.name)
            kind = _EXTENDED.get(self.type)
            if kind is not None:
                chain[0] += 1
                budget.enter(label)
                if self.size > limits.header_size:
                    raise LimitReached(f"stopped reading at {label}: " + over(
                        "header-size", limits, f"a {kind} header of {human_size(self.size)}"))
                if chain[0] > MAX_HEADER_CHAIN:
                    raise LimitReached(f"stopped reading at {label}: more than {MAX_HEADER_CHAIN} extended "
                                       "headers in a row")
                budget.hold(label, self.size)
            elif self.type == tarfile.GNUTYPE_SPARSE:
                raise LimitReached(f"stopped reading at {label}: a GNU sparse file (not supported)")
            else:
                chain[0] = 0
            done: tarfile.TarInfo = getattr(super(), "_proc_member")(tar)  # noqa: B009 - private in typeshed
            chain[0] = 0
            return done

        def _proc_gnusparse_10(self, next: tarfile.TarInfo, pax_headers: dict[str, str],
                               tar: tarfile.TarFile) -> None:
            raise LimitReached(f"stopped reading at {clean_name(next.name)}: a PAX sparse file (not supported)")

    return BoundedTarInfo


def _read_tar(name: str, fh: BinaryIO, kind: str | None, budget: Budget, members: Members) -> None:
    raw = _Counting(fh)
    seen = 0
    compressed = kind is not None
    try:
        with tarfile.open(fileobj=raw, mode=f"r:{kind or ''}",  # type: ignore[call-overload]
                          tarinfo=_bounded_tarinfo(budget)) as tar:
            for member in tar:
                seen += 1
                budget.scan(clean_name(member.name), member.offset_data + member.size,
                            raw.count if compressed else None)
                _read_one(tar, member, budget, members)
                tar.members.clear()  # nothing looks members up again: do not keep 20,000 TarInfos
            damage = _damaged_end(tar)
            if damage:
                raise tarfile.ReadError(damage)
    except LimitReached as exc:
        members.problems.append(str(exc))
    except _CORRUPT as exc:
        _corrupt(name, exc, seen, members, header_error=isinstance(exc, tarfile.ReadError))


def _damaged_end(tar: tarfile.TarFile) -> str | None:
    """Why the archive did not end with end-of-archive blocks, or None. tarfile ends its member list
    quietly at the first damaged header after the first member: that must not look like the end."""
    try:
        tar.fileobj.seek(tar.offset)
        block = tar.fileobj.read(tarfile.BLOCKSIZE)
    except _CORRUPT as exc:
        return clean_name(str(exc) or type(exc).__name__)
    return "a damaged member header" if block.strip(b"\0") else None


def _corrupt(name: str, exc: BaseException, seen: int, members: Members, *, header_error: bool) -> None:
    detail = clean_name(str(exc) or type(exc).__name__)
    if not members.data and seen == 0 and header_error and "header" in detail:
        raise BundleError(f"{name}: not a tar archive inside the compressed stream ({detail})") from None
    if not members.data and not members.nested:
        raise BundleError(f"{name}: corrupt or truncated archive ({detail})") from None
    members.problems.append(
        f"{name}: archive is truncated or corrupt after {seen} members ({detail}); kept what was read")


def _skip_reason(member: tarfile.TarInfo) -> str | None:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hard link"
    if member.ischr() or member.isblk():
        return "device file"
    if member.isfifo():
        return "fifo"
    if member.issparse():
        return "sparse file"
    if not member.isreg():
        return "unsupported member type"
    return None


def _accept(raw_name: str, budget: Budget, members: Members) -> str | None:
    """The normalised member path to use, or None (the refusal recorded)."""
    reason = unsafe_name_reason(raw_name) or path_reason(raw_name, budget.limits)
    if reason:
        members.problems.append(f"skipped {raw_name}: {reason}")
        return None
    return normalise_name(raw_name) or None


def _read_one(tar: tarfile.TarFile, member: tarfile.TarInfo, budget: Budget, members: Members) -> None:
    raw_name = clean_name(member.name)
    budget.enter(raw_name)
    if member.isdir():
        return
    rel = _accept(raw_name, budget, members)
    if rel is None:
        return
    reason = _skip_reason(member)
    if reason:
        if member.issym():
            members.links[rel] = clean_name(member.linkname)
        members.problems.append(f"skipped {rel}: {reason}")
        return
    if rel in members.data:
        members.problems.append(f"skipped {rel}: duplicate member (kept the first)")
        return
    reason = budget.admit(rel, member.size)
    if reason:
        members.problems.append(f"skipped {rel}: {reason}")
        return
    stream = tar.extractfile(member)
    if stream is None:  # pragma: no cover - regular members always have a stream
        return
    members.data[rel] = stream.read(budget.limits.file_size + 1)[: member.size]


# ---------------------------------------------------------------- zip


def _zip_directory_size(fh: BinaryIO) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end record, read before zipfile parses anything."""
    end = getattr(zipfile, "_EndRecData")(fh)  # noqa: B009 - the stdlib's own end-record reader
    fh.seek(0)
    if end is None:
        return None
    return int(end[4]), int(end[5])  # _ECD_ENTRIES_TOTAL, _ECD_SIZE


def _read_zip(name: str, fh: BinaryIO, budget: Budget, members: Members) -> None:
    limits = budget.limits
    try:
        sizes = _zip_directory_size(fh)
    except (OSError, ValueError, EOFError) as exc:
        raise BundleError(f"{name}: corrupt zip archive ({clean_name(str(exc))})") from None
    if sizes is None:
        raise BundleError(f"{name}: corrupt or truncated zip archive (no end of central directory)")
    entries, directory = sizes
    if entries > limits.members or directory > limits.members * ZIP_ENTRY_BYTES:
        what = f"{entries:,} entries" if entries > limits.members else f"a central directory of {human_size(directory)}"
        raise BundleError(f"{name}: " + over("members", limits, what))
    seen = 0
    try:
        with zipfile.ZipFile(fh) as zf:
            scanned = 0
            compressed = 0
            for info in zf.infolist():
                seen += 1
                if _read_zip_entry(zf, info, budget, members):
                    scanned += info.file_size
                    compressed += info.compress_size
                    budget.scan(clean_name(info.filename), scanned, compressed)
    except LimitReached as exc:
        members.problems.append(str(exc))
    except _CORRUPT as exc:
        _corrupt(name, exc, seen, members, header_error=False)


def _read_zip_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, members: Members) -> bool:
    """Read one entry into `members`; True when its data was decompressed."""
    limits = budget.limits
    raw_name = clean_name(info.filename)
    budget.enter(raw_name)
    if info.is_dir():
        return False
    rel = _accept(raw_name, budget, members)
    if rel is None:
        return False
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        if info.file_size <= limits.path_length:
            members.links[rel] = clean_name(zf.read(info).decode("utf-8", "replace"))
        members.problems.append(f"skipped {rel}: symlink")
        return False
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        members.problems.append(f"skipped {rel}: unsupported member type")
        return False
    if info.flag_bits & 0x1:
        members.problems.append(f"skipped {rel}: encrypted")
        return False
    if rel in members.data:
        members.problems.append(f"skipped {rel}: duplicate member (kept the first)")
        return False
    if info.file_size > limits.ratio * max(info.compress_size, 1) and info.file_size > RATIO_FLOOR:
        ratio = info.file_size // max(info.compress_size, 1)
        members.problems.append(f"skipped {rel}: " + over("ratio", limits, f"compressed {ratio:,} to 1"))
        return False
    reason = budget.admit(rel, info.file_size)
    if reason:
        members.problems.append(f"skipped {rel}: {reason}")
        return False
    try:
        with zf.open(info) as stream:
            data = stream.read(limits.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, RuntimeError,
            OSError, ValueError) as exc:
        members.problems.append(f"skipped {rel}: unreadable ({clean_name(str(exc) or type(exc).__name__)})")
        return False
    members.data[rel] = data[: limits.file_size]
    return True

