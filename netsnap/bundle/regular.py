"""Opening one input file: regular files only, never a pseudo file, read with a bounded read.

Every file netsnap reads goes through `open_regular` (bundles, archives, security-group exports,
rule files; directory walks open their members relative to a directory fd the same way). It opens
without blocking (a FIFO cannot hang the open), then refuses by type, from the open descriptor:
FIFOs, sockets, devices (`/dev/zero`, `/dev/urandom`), directories where a file is wanted, and files
of pseudo file systems (`/proc`, `/sys`, debugfs, cgroup...: their sizes say nothing about what a
read returns). `read_bounded` never reads more than its limit plus one byte, whatever the file
claims or becomes while it is read.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat

from netsnap.bundle.limits import InputRefused, Limits, human_size, over
from netsnap.bundle.members import clean_name

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

#: File systems whose files are views of kernel state, not data (types as /proc/self/mountinfo names them).
PSEUDO_FS = frozenset({
    "proc", "sysfs", "debugfs", "tracefs", "securityfs", "cgroup", "cgroup2", "bpf", "configfs", "pstore",
    "efivarfs", "fusectl", "devpts", "mqueue", "binfmt_misc", "autofs", "rpc_pipefs", "nsfs", "selinuxfs",
})
_MOUNTINFO = "/proc/self/mountinfo"


def kind_of(mode: int) -> str:
    """What a non-regular file is, in the words member problems use: `fifo`, `device file`..."""
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device file"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "unsupported file type"


@functools.cache
def _pseudo_devices() -> dict[int, str]:
    """st_dev -> file system type of every pseudo file system mounted (empty where /proc is absent)."""
    out: dict[int, str] = {}
    with contextlib.suppress(OSError):
        fd = os.open(_MOUNTINFO, os.O_RDONLY | _O_CLOEXEC)
        try:
            chunks: list[bytes] = []
            total = 0
            while total < 4 * 1024 * 1024:  # a trusted kernel file, still bounded
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        finally:
            os.close(fd)
        for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
            left, sep, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if not sep or len(fields) < 3 or not tail or tail[0] not in PSEUDO_FS:
                continue
            major, _, minor = fields[2].partition(":")
            if major.isdigit() and minor.isdigit():
                out[os.makedev(int(major), int(minor))] = tail[0]
    return out


def pseudo_fs(st: os.stat_result) -> str | None:
    """The pseudo file system (`proc`, `sysfs`...) holding the file of `st`, or None."""
    return _pseudo_devices().get(st.st_dev)


def refusal(st: os.stat_result, *, directory: bool = False) -> str | None:
    """Why a file of `st` is not read (None: read it). `directory=True` wants a directory."""
    fs = pseudo_fs(st)
    if fs is not None:
        return f"a file of the {fs} pseudo file system (kernel state, not a file to read)"
    if directory:
        return None if stat.S_ISDIR(st.st_mode) else f"not a directory ({kind_of(st.st_mode)})"
    return None if stat.S_ISREG(st.st_mode) else f"not a regular file ({kind_of(st.st_mode)})"


def open_regular(path: str, *, dir_fd: int | None = None, follow: bool = True,
                 name: str | None = None) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without blocking; return (fd, its stat). OSError as the OS
    gives it; InputRefused (naming `name`, else `path`) for anything but a regular file of a real
    file system."""
    flags = os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | (0 if follow else _O_NOFOLLOW)
    before = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow)  # a socket cannot even be opened
    why = refusal(before)
    if why and not stat.S_ISLNK(before.st_mode):
        raise InputRefused(f"{name or clean_name(path)}: {why}")
    fd = os.open(path, flags, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)  # what was opened decides (the file may have been swapped since)
        why = refusal(st)
        if why:
            raise InputRefused(f"{name or clean_name(path)}: {why}")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def open_directory(path: str, *, dir_fd: int | None = None, follow: bool = True,
                   name: str | None = None) -> tuple[int, os.stat_result]:
    """Open a directory (the same checks as `open_regular`, for a directory)."""
    flags = os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC | (0 if follow else _O_NOFOLLOW)
    fd = os.open(path, flags, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        why = refusal(st, directory=True)
        if why:
            raise InputRefused(f"{name or clean_name(path)}: {why}")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_fd(fd: int, limit: int) -> bytes:
    """Read at most `limit + 1` bytes from `fd` (one more than allowed tells that it was too long)."""
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_bounded(path: str, limits: Limits, limit: str = "file-size", *, what: str | None = None) -> bytes:
    """The bytes of the regular file `path`, at most limit `limit` (`file-size`, `document-size`).

    Raises InputRefused (one line naming the file, the limit and its flag) when the file is not a
    regular file or is larger than the limit, and OSError when it cannot be opened or read.
    """
    name = what or clean_name(path)
    fd, st = open_regular(path, name=name)
    try:
        cap = getattr(limits, limit.replace("-", "_"))
        if st.st_size > cap:
            raise InputRefused(f"{name}: " + over(limit, limits, f"{human_size(st.st_size)}"))
        data = read_fd(fd, cap)
    finally:
        os.close(fd)
    if len(data) > cap:
        raise InputRefused(f"{name}: " + over(limit, limits, "grew while it was read"))
    return data
