"""Reading a bundle directory (an extracted tarball, sosreport or a folder of loose files) in memory.

Symlinks are never followed (their targets are recorded in `Members.links`), only regular files are
read (opened with O_NOFOLLOW and checked again after opening), and the same `Limits` as for archives
apply. The directory's hash is a stable hash over sorted member paths and contents.
"""

from __future__ import annotations

import contextlib
import os
import stat

from netsnap.bundle.members import Budget, LimitReached, Members, clean_name
from netsnap.bundle.model import BundleError, Limits

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device file"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "unsupported file type"


def read_directory(path: str | os.PathLike[str], limits: Limits) -> Members:
    """Read every regular file under the directory `path` (recursively, sorted) into memory."""
    root = os.fspath(path)
    members = Members()
    budget = Budget(limits)
    try:
        _walk(root, "", budget, members)
    except LimitReached as exc:
        members.problems.append(str(exc))
    except OSError as exc:
        raise BundleError(f"{root}: cannot read directory: {exc.strerror or exc}") from None
    members.sha256 = members.tree_sha256()
    return members


def _walk(root: str, rel_dir: str, budget: Budget, members: Members, real_dir: str | None = None) -> None:
    """Walk one directory level; `rel_dir` is the printable relative path, `real_dir` the real one."""
    try:
        with os.scandir(real_dir or root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        if not rel_dir:
            raise
        members.problems.append(f"skipped {rel_dir}: cannot read directory ({exc.strerror or exc})")
        return
    for entry in entries:
        name = clean_name(entry.name)
        rel = f"{rel_dir}/{name}" if rel_dir else name
        budget.enter(rel)
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            members.problems.append(f"skipped {rel}: {exc.strerror or exc}")
            continue
        if stat.S_ISLNK(st.st_mode):
            with contextlib.suppress(OSError):
                members.links[rel] = clean_name(os.readlink(entry.path))
            members.problems.append(f"skipped {rel}: symlink")
        elif stat.S_ISDIR(st.st_mode):
            _walk(root, rel, budget, members, entry.path)
        elif stat.S_ISREG(st.st_mode):
            _read_file(entry.path, rel, st.st_size, budget, members)
        else:
            members.problems.append(f"skipped {rel}: {_kind(st.st_mode)}")


def _read_file(path: str, rel: str, size: int, budget: Budget, members: Members) -> None:
    reason = budget.admit(rel, size)
    if reason:
        members.problems.append(f"skipped {rel}: {reason}")
        return
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK)
    except OSError as exc:
        members.problems.append(f"skipped {rel}: {exc.strerror or exc}")
        return
    limit = budget.limits.max_member_size
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                members.problems.append(f"skipped {rel}: not a regular file")
                return
            data = fh.read(limit + 1)
    except OSError as exc:
        members.problems.append(f"skipped {rel}: {exc.strerror or exc}")
        return
    if len(data) > limit:  # the file grew after it was listed
        members.problems.append(f"skipped {rel}: grew beyond the member size limit while being read")
        return
    members.data[rel] = data
