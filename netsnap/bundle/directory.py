"""Reading a bundle directory (an extracted tarball, sosreport or a folder of loose files) in memory.

The walk is iterative and works relative to open directory descriptors, so neither the depth of a
tree nor PATH_MAX can break it, and a directory swapped for a symlink mid-walk is not followed.
Symlinks are never followed (their targets are recorded in `Members.links`); only regular files
are read (`regular.open_regular`: opened with O_NOFOLLOW and O_NONBLOCK, refused by type after
opening, read with a bounded read); files with several hard links are skipped (a hard link can
name any file of the same file system, /etc/shadow included); pseudo file systems (/proc, /sys) are
not entered; directories deeper than the path-depth limit are skipped, each reported once. The same
`Limits` as for archives apply. Archive files are not read: `Members.nested` records them, for the
reader to open as bundles of their own when the directory is not a bundle itself. The directory's
hash is a stable hash over sorted member paths and contents.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from netsnap.bundle.limits import InputRefused, Limits, over
from netsnap.bundle.members import Budget, LimitReached, Members, clean_name, path_reason
from netsnap.bundle.model import BundleError
from netsnap.bundle.regular import kind_of, open_directory, open_regular, pseudo_fs, read_fd

#: First bytes of the archives a folder may hold (tarballs, sosreports, zips), kept as nested bundles.
ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"PK\x03\x04", b"\x28\xb5\x2f\xfd")


@dataclass
class _Level:
    fd: int
    rel: str
    real: str
    entries: Iterator[os.DirEntry[str]]
    ident: tuple[int, int]


def read_directory(path: str | os.PathLike[str], limits: Limits, budget: Budget | None = None) -> Members:
    """Read every regular file under the directory `path` (sorted, depth first) into memory."""
    root = os.fspath(path)
    members = Members(limits=limits)
    budget = budget or Budget(limits)
    try:
        fd, st = open_directory(root)
    except InputRefused as exc:
        raise BundleError(str(exc)) from None
    except OSError as exc:
        raise BundleError(f"{clean_name(root)}: cannot read directory: {exc.strerror or exc}") from None
    try:
        _walk(fd, root, st, budget, members)
    except LimitReached as exc:
        members.problems.append(str(exc))
    except OSError as exc:
        raise BundleError(f"{clean_name(root)}: cannot read directory: {exc.strerror or exc}") from None
    members.sha256 = members.tree_sha256()
    return members


def _listing(fd: int) -> Iterator[os.DirEntry[str]]:
    with os.scandir(fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    return iter(entries)


def _walk(root_fd: int, root: str, root_st: os.stat_result, budget: Budget, members: Members) -> None:
    stack = [_Level(root_fd, "", root, iter(()), (root_st.st_dev, root_st.st_ino))]
    try:
        stack[0].entries = _listing(root_fd)
        while stack:
            level = stack[-1]
            entry = next(level.entries, None)
            if entry is None:
                os.close(stack.pop().fd)
                continue
            name = clean_name(entry.name)
            rel = f"{level.rel}/{name}" if level.rel else name
            budget.enter(rel)
            sub = _visit(level, entry, rel, budget, members, stack)
            if sub is not None:
                stack.append(sub)
    finally:
        for level in stack:
            with contextlib.suppress(OSError):
                os.close(level.fd)


def _visit(level: _Level, entry: os.DirEntry[str], rel: str, budget: Budget, members: Members,
           stack: list[_Level]) -> _Level | None:
    """Read one entry; return the level to descend into for a directory."""
    limits = budget.limits
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError as exc:
        members.problems.append(f"skipped {rel}: {exc.strerror or exc}")
        return None
    why = path_reason(rel, limits)
    if why and not stat.S_ISDIR(st.st_mode):
        members.problems.append(f"skipped {rel}: {why}")
        return None
    if stat.S_ISLNK(st.st_mode):
        with contextlib.suppress(OSError):
            members.links[rel] = clean_name(os.readlink(entry.name, dir_fd=level.fd))
        members.problems.append(f"skipped {rel}: symlink")
        return None
    if stat.S_ISDIR(st.st_mode):
        return _descend(level, entry, rel, st, members, stack)
    if not stat.S_ISREG(st.st_mode):
        members.problems.append(f"skipped {rel}: {kind_of(st.st_mode)}")
        return None
    if st.st_nlink > 1:
        members.problems.append(f"skipped {rel}: hard link ({st.st_nlink} names for one file; not read)")
        return None
    _read_file(level, entry.name, rel, budget, members)
    return None


def _descend(level: _Level, entry: os.DirEntry[str], rel: str, st: os.stat_result, members: Members,
             stack: list[_Level]) -> _Level | None:
    limits = members.limits
    depth = rel.count("/") + 1
    if depth >= limits.path_depth:
        members.problems.append(f"skipped {rel}/: " + over("path-depth", limits, f"{depth + 1:,} levels deep"))
        return None
    size = len(rel.encode("utf-8", "surrogateescape"))
    if size >= limits.path_length:
        members.problems.append(f"skipped {rel}/: " + over("path-length", limits, f"paths of {size:,} bytes"))
        return None
    fs = pseudo_fs(st)
    if fs is not None:
        members.problems.append(f"skipped {rel}/: the {fs} pseudo file system (not entered)")
        return None
    if any(lv.ident == (st.st_dev, st.st_ino) for lv in stack):
        members.problems.append(f"skipped {rel}/: directory loop (a bind mount of a parent)")
        return None
    try:
        fd, _ = open_directory(entry.name, dir_fd=level.fd, follow=False)
    except (OSError, InputRefused) as exc:
        members.problems.append(f"skipped {rel}: cannot read directory ({_reason(exc)})")
        return None
    try:
        entries = _listing(fd)
    except OSError as exc:
        os.close(fd)
        members.problems.append(f"skipped {rel}: cannot read directory ({_reason(exc)})")
        return None
    return _Level(fd, rel, os.path.join(level.real, entry.name), entries, (st.st_dev, st.st_ino))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc).split(": ", 1)[-1]


def _read_file(level: _Level, name: str, rel: str, budget: Budget, members: Members) -> None:
    try:
        fd, st = open_regular(name, dir_fd=level.fd, follow=False)
    except (OSError, InputRefused) as exc:
        members.problems.append(f"skipped {rel}: {_reason(exc)}")
        return
    try:
        head = os.pread(fd, 512, 0)
        if head.startswith(ARCHIVE_MAGIC) or head[257:262] == b"ustar":
            members.nested[rel] = os.path.join(level.real, name)
            return
        reason = budget.admit(rel, st.st_size)
        if reason:
            members.problems.append(f"skipped {rel}: {reason}")
            return
        data = read_fd(fd, budget.limits.file_size)
    except OSError as exc:
        members.problems.append(f"skipped {rel}: {exc.strerror or exc}")
        return
    finally:
        os.close(fd)
    if len(data) > budget.limits.file_size:  # the file grew after it was listed
        members.problems.append(f"skipped {rel}: grew beyond the file-size limit while being read")
        return
    members.data[rel] = data
