"""`open_bundles`: open any input safely and map each bundle it holds onto netsnap's source ids.

A bundle is a collector tarball or its extracted directory, a sosreport (tarball or directory), or a
folder of loose text files. The path decides only "directory or file"; archives are recognised by
content (gzip, bzip2, xz, plain tar or zip, whatever the extension), and the layout by the members.
Nothing is extracted to disk and `Limits` bound what is read (limits.py; archive.py and
directory.py say how).

One input may hold several bundles, and each becomes a bundle of its own, never merged: a folder
or archive whose sub-folders are collector bundles or sosreports (`incident-a/` with `master/` and
`node1/`), tarballs, sosreports or zips inside a folder or a zip (one level deep: an archive inside
those is not opened), and folders of loose files per host (sub-folders that each hold output of the
same command, e.g. `ip route` twice). Files beside such bundles that are no bundle are reported and
left out. An input in which nothing is recognised is refused: "no network data found in PATH".
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import Counter

from netsnap.bundle.archive import is_archive, read_archive, read_archive_bytes
from netsnap.bundle.collector import is_collector, load_manifest, read_collector
from netsnap.bundle.directory import read_directory
from netsnap.bundle.limits import Limits, human_size, over
from netsnap.bundle.loose import read_loose
from netsnap.bundle.members import Budget, Members, clean_name
from netsnap.bundle.model import Bundle, BundleError
from netsnap.bundle.sosreport import is_sosreport, read_sosreport
from netsnap.model.host import SourceState
from netsnap.sources import BY_ID

__all__ = ["Bundle", "BundleError", "Limits", "bundle_stem", "open_bundle", "open_bundles"]

_ARCHIVE_SUFFIX = re.compile(r"(\.tar(\.(gz|xz|bz2|zst))?|\.tgz|\.txz|\.tbz2?|\.zip)$", re.IGNORECASE)
#: Facts that ordinary folders also hold (a host name file, a sysctl.conf): alone they are no network dump.
NOT_NETWORK_DATA = frozenset({"identity"})
MAX_HOST_FOLDERS = 200  # sub-folders of a loose folder tried as hosts of their own
MANY_FILES = 100  # a loose folder this large must be mostly recognised files to count as a dump
LOOKED_FOR = ("looked for a netsnap collector bundle (manifest.json), a sosreport (sos_commands/) or "
              "command output netsnap recognises (ip route, ip addr, iptables-save, flannel's log...)")


def bundle_stem(path: str) -> str:
    """A bundle's name without directory and archive suffix: `/tmp/node1.tar.gz` -> `node1`."""
    base = os.path.basename(os.path.normpath(os.path.abspath(path)))
    return _ARCHIVE_SUFFIX.sub("", base) or base


def read_input(path: str, limits: Limits, budget: Budget) -> Members:
    """The members of the directory or archive at `path` (BundleError, one line, when unreadable)."""
    shown = clean_name(path)
    try:
        st = os.stat(path)  # the path the user gave may be a symlink: follow it, once
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise BundleError(f"{shown}: no such file or directory") from None
        if exc.errno == errno.ELOOP:
            raise BundleError(f"{shown}: a symlink loop") from None
        raise BundleError(f"{shown}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        return read_directory(path, limits, budget)
    return read_archive(path, limits, budget)


def open_bundles(path: str | os.PathLike[str], limits: Limits | None = None) -> list[Bundle]:
    """Every bundle the input at `path` holds (one, usually); BundleError (one line naming the file)
    when it cannot be opened or holds nothing netsnap recognises."""
    name = os.fspath(path)
    limits = limits or Limits()
    budget = Budget(limits)
    members = read_input(name, limits, budget)
    bundles = _bundles(members, clean_name(name), bundle_stem(name), budget, nested=True)
    for bundle in bundles:
        _check_lines(bundle, limits)
    return bundles


def open_bundle(path: str | os.PathLike[str], limits: Limits | None = None) -> Bundle:
    """The one bundle at `path`; BundleError when it cannot be opened or holds several (named)."""
    bundles = open_bundles(path, limits)
    if len(bundles) > 1:
        names = ", ".join(b.path for b in bundles[:6]) + (", ..." if len(bundles) > 6 else "")
        raise BundleError(f"{clean_name(os.fspath(path))}: holds {len(bundles)} bundles ({names}); "
                          "open them one by one")
    return bundles[0]


def _layout(members: Members) -> str | None:
    """`collector` or `sosreport` when the members form one such bundle, else None."""
    manifest, _ = load_manifest(members)
    if manifest is not None and is_collector(members):
        return "collector"
    if is_sosreport(members):
        return "sosreport"
    if is_collector(members):
        return "collector"
    return None


def _build(members: Members, name: str, stem: str, layout: str | None) -> Bundle:
    if layout == "collector":
        return read_collector(members, name, stem)
    if layout == "sosreport":
        return read_sosreport(members, name, stem)
    return read_loose(members, name, stem)


def _network_sources(bundle: Bundle) -> list[str]:
    """The sources of `bundle` that carry network facts (not only a host name)."""
    return [sid for sid in bundle.files
            if not set(BY_ID[sid].facts if sid in BY_ID else ("network",)) <= NOT_NETWORK_DATA]


def _is_dump(bundle: Bundle, members: Members) -> bool:
    """A loose folder is a dump when it holds network data and is not mostly other files (a folder of
    pasted output is; /etc, with a few iptables-restore files among a thousand others, is not)."""
    network = _network_sources(bundle)
    many = len(members.data) >= MANY_FILES
    return bool(network) and not (many and len(bundle.files) * 20 < len(members.data))


def _inner(name: str, members: Members, rel: str) -> str:
    return "/".join(p for p in (name, members.top, rel) if p)


def _bundles(members: Members, name: str, stem: str, budget: Budget, *, nested: bool) -> list[Bundle]:
    if not members.data and not members.nested:
        why = "; ".join(members.problems[:3])
        raise BundleError(f"{name}: no readable files" + (f" ({why})" if why else ""))
    members.strip_top()
    stem = (members.top or stem).rsplit("/", 1)[-1]
    layout = _layout(members)
    if layout is not None:
        return [_build(members, name, stem, layout)]
    found: list[Bundle] = []
    used: set[str] = set()
    notes: list[str] = []
    parts = members.split()
    for group, sub in parts.items():
        sub_layout = _layout(sub)
        if sub_layout is not None:
            found.append(_build(sub, _inner(name, members, group), group, sub_layout))
            used.add(group)
    for rel, data in sorted(members.data.items()):
        if rel.split("/", 1)[0] not in used and is_archive(data[:512]):
            used.add(rel)
            found.extend(_open_nested(rel, data, None, name, members, budget, notes, nested=nested))
    for rel, real in sorted(members.nested.items()):
        if rel.split("/", 1)[0] not in used:
            used.add(rel)
            found.extend(_open_nested(rel, None, real, name, members, budget, notes, nested=nested))
    if not found:
        split = _loose_hosts(members, parts, name)
        if split:
            return split
        bundle = read_loose(members, name, stem)
        if not _is_dump(bundle, members):
            raise BundleError(_nothing_found(name, members, bundle, notes))
        return [bundle]
    rest = Members(data={r: d for r, d in members.data.items() if r not in used and r.split("/", 1)[0] not in used},
                   limits=members.limits)
    if rest.data:
        loose = read_loose(rest, name, stem)
        if _network_sources(loose):
            found.append(loose)
        else:
            shown = sorted(rest.data)
            notes.append(f"{name}: left out {len(shown)} files beside the bundles, none of them a bundle: "
                         + ", ".join(shown[:5]) + (", ..." if len(shown) > 5 else ""))
    for bundle in found:
        bundle.problems.extend(notes)
    return found


def _open_nested(rel: str, data: bytes | None, real: str | None, name: str, members: Members, budget: Budget,
                 notes: list[str], *, nested: bool) -> list[Bundle]:
    """The bundles of an archive found inside an input (one level deep only)."""
    inner = real if real is not None else _inner(name, members, rel)
    shown = clean_name(inner)
    if not nested:
        notes.append(f"{shown}: not opened (an archive inside an archive inside an input; pass it on its own)")
        return []
    try:
        if data is not None:
            inner_members = read_archive_bytes(data, shown, members.limits, budget)
        else:
            inner_members = read_archive(inner, members.limits, budget)
        return _bundles(inner_members, shown, bundle_stem(rel), budget, nested=False)
    except BundleError as exc:
        notes.append(f"left out {exc}")
        return []


def _loose_hosts(members: Members, parts: dict[str, Members], name: str) -> list[Bundle] | None:
    """Loose bundles per sub-folder when the sub-folders are hosts: at least two of them hold output
    of the same kind (two `ip route` pastes are two hosts; `routes/` and `firewall/` are one)."""
    if len(parts) < 2 or len(parts) > MAX_HOST_FOLDERS:
        return None
    built = [read_loose(sub, _inner(name, members, g), g) for g, sub in parts.items()]
    hosts = [b for b in built if _network_sources(b)]
    kinds = Counter(sid for b in hosts for sid in _network_sources(b))
    if len(hosts) < 2 or not any(n > 1 for n in kinds.values()):
        return None
    left = sorted(r for r in members.data if "/" not in r)
    if left:
        for bundle in hosts:
            bundle.problems.append(f"{name}: left out {len(left)} files beside the host folders: "
                                   + ", ".join(left[:5]) + (", ..." if len(left) > 5 else ""))
    return hosts


def _nothing_found(name: str, members: Members, bundle: Bundle, notes: list[str]) -> str:
    read = len(members.data)
    only = sorted(bundle.files)
    what = (f"read {read:,} files, recognised only {len(only)} ({', '.join(only)})" if only else
            f"read {read:,} files, none recognised" if read else "no readable files")
    skipped = [p for p in members.problems if p.startswith(("skipped", "stopped")) or "corrupt" in p]
    if skipped:
        what += f"; {len(skipped)} problems (first: {skipped[0]})"
    if notes:
        what += f"; {notes[0]}"
    return f"no network data found in {name}: {LOOKED_FOR}; {what}"


def _longest_line(text: str) -> int:
    """The length of the longest line (one pass over the newlines; a regex for a run of N non-newlines
    rescans each line from every position: seconds on a 14 MB ruleset)."""
    longest = start = 0
    find = text.find
    while True:
        end = find("\n", start)
        if end < 0:
            return max(longest, len(text) - start)
        if end - start > longest:
            longest = end - start
        start = end + 1


def _check_lines(bundle: Bundle, limits: Limits) -> None:
    """A source with more lines than the lines limit, or a line longer than the line-length limit, is
    not parsed: it becomes unreadable, saying why (rules that need it are then not evaluated)."""
    for source, sf in list(bundle.files.items()):
        lines = sf.text.count("\n") + (0 if sf.text.endswith("\n") or not sf.text else 1)
        if lines > limits.lines:
            why = over("lines", limits, f"{lines:,} lines")
        elif len(sf.text) > limits.line_length and (longest := _longest_line(sf.text)) > limits.line_length:
            why = over("line-length", limits, f"a line of {human_size(longest)}")
        else:
            continue
        sf.state = SourceState.UNREADABLE
        sf.notes.append(f"not parsed: {why}")
        sf.text = ""
        bundle.problems.append(f"{sf.file}: not parsed: {why}")
        del bundle.files[source]
        bundle.missing[source] = sf
