"""`open_bundle`: open any bundle safely and map it onto netsnap's source ids.

A bundle is a collector tarball or its extracted directory, a sosreport (tarball or directory), or a
folder of loose text files. The path decides only "directory or file"; archives are recognised by
content (gzip, bzip2, xz or plain tar, whatever the extension), and the layout by the members.
Nothing is extracted to disk and limits bound what is read (`Limits`); see archive.py for how a
truncated archive is handled.
"""

from __future__ import annotations

import os
import re

from netsnap.bundle.archive import read_archive
from netsnap.bundle.collector import is_collector, load_manifest, read_collector
from netsnap.bundle.directory import read_directory
from netsnap.bundle.loose import read_loose
from netsnap.bundle.model import Bundle, BundleError, Limits
from netsnap.bundle.sosreport import is_sosreport, read_sosreport

__all__ = ["Bundle", "BundleError", "Limits", "open_bundle"]

_ARCHIVE_SUFFIX = re.compile(r"(\.tar(\.(gz|xz|bz2|zst))?|\.tgz|\.txz|\.tbz2?)$", re.IGNORECASE)


def bundle_stem(path: str) -> str:
    """A bundle's name without directory and archive suffix: `/tmp/node1.tar.gz` -> `node1`."""
    base = os.path.basename(os.path.normpath(os.path.abspath(path)))
    return _ARCHIVE_SUFFIX.sub("", base) or base


def open_bundle(path: str | os.PathLike[str], limits: Limits | None = None) -> Bundle:
    """Open the bundle at `path`; raise `BundleError` (one line naming the file) if it cannot be opened."""
    name = os.fspath(path)
    limits = limits or Limits()
    if os.path.isdir(name):
        members = read_directory(name, limits)
    elif os.path.lexists(name):
        if not os.path.isfile(name):
            raise BundleError(f"{name}: not a regular file or directory")
        members = read_archive(name, limits)
    else:
        raise BundleError(f"{name}: no such file or directory")
    if not members.data:
        why = "; ".join(members.problems[:3])
        raise BundleError(f"{name}: no readable files" + (f" ({why})" if why else ""))
    members.strip_top()
    stem = members.top or bundle_stem(name)
    manifest, _ = load_manifest(members)
    if manifest is not None and is_collector(members):
        return read_collector(members, name, stem)
    if is_sosreport(members):
        return read_sosreport(members, name, stem)
    if is_collector(members):
        return read_collector(members, name, stem)
    return read_loose(members, name, stem)
