"""Mapping a sosreport (tarball or extracted directory) onto netsnap's source ids.

Each source's `sos_paths` (netsnap/sources.py) are tried in order, then its `SOS_PATTERNS` (file
names that vary: pod ids, device names); the first present wins. The sosreport-only sources
(`SOS_ONLY_SOURCES`: the nat, mangle and raw tables' list files) are mapped the same way, and only
appear in the bundle when sos wrote (or tried) their file. sos's
per-command run data comes from `sos_reports/manifest.json` (sos >= 4): return code 126/127 means the
command is missing (sos writes no file then), 124 a timeout, `truncated` a tailed file; a plugin's
`timeout_hit` marks its uncollected commands as timed out. Without a manifest (sos 3.x), an empty
file means "not collected" and `sos_logs/sos.log` "timed out" lines mark timeouts. Files sos tailed
live in `sos_strings/` behind a symlink at the `sos_commands` path: the link is resolved inside the
archive (never on disk) and the source is marked truncated. The full journal is cut down to
flannel's lines (`SourceFile.line_map` points back to the real lines).

`Bundle.members` holds only the mapped files, the sos manifest and sos.log: a sosreport has
thousands of files netsnap never reads.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from netsnap.bundle.journal_filter import count_lines, filter_flannel
from netsnap.bundle.members import Members, clean_name, normalise_name
from netsnap.bundle.model import Bundle, SourceFile
from netsnap.bundle.text import add_text_members, member_text
from netsnap.model.host import SourceState
from netsnap.sources import SOS_ONLY_SOURCES, SOURCES

SOS_MANIFEST = "sos_reports/manifest.json"
SOS_LOG = "sos_logs/sos.log"
MISSING_RC = (126, 127)
TIMEOUT_RC = 124

# Sources whose sos file name varies (device names, pod ids): tried by pattern when no exact
# `sos_paths` entry is present. The last match in path order wins (the newest pod log, N.log).
SOS_PATTERNS: dict[str, tuple[str, ...]] = {
    "flannel_pod_logs": (
        "var/log/pods/kube-system_kube-flannel-*/kube-flannel/*.log",
        "var/log/containers/kube-flannel-*_kube-system_kube-flannel-*.log",
    ),
    "ethtool": ("sos_commands/networking/ethtool_-k_flannel*",),
}

_TOP_DIR = re.compile(r"^sosreport-(?P<host>.+?)(?:-\d+)?-\d{4}-\d\d-\d\d-[A-Za-z0-9]+$")
_TIMED_OUT = re.compile(r"command '(?P<cmd>[^']+)' timed out")


@dataclass
class SosCommand:
    """One command as sos's manifest recorded it."""

    exec: str
    filepath: str | None
    return_code: int | None
    run_time: float | None
    truncated: bool
    plugin_timeout: bool


def is_sosreport(members: Members) -> bool:
    names = list(members.data) + list(members.links)
    return any(n.startswith(("sos_commands/", "sos_reports/", "sos_logs/")) for n in names)


def mangle(command: str) -> str:
    """sos's file name for a command's output (`_mangle_command`)."""
    name = re.sub(r"^/(usr/)?(s)?bin/", "", command)
    name = re.sub(r"[^\w\-./]+", "_", name)
    return name.replace("/", ".").strip(" ._-")


def resolve(members: Members, rel: str, hops: int = 4) -> str | None:
    """The member holding `rel`'s data, following symlinks inside the archive only (never on disk)."""
    for _ in range(hops):
        if rel in members.data:
            return rel
        target = members.links.get(rel)
        if target is None or target.startswith("/"):
            return None
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
        if joined.startswith("../") or joined == "..":
            return None
        rel = normalise_name(joined)
    return rel if rel in members.data else None


def load_sos_manifest(members: Members) -> tuple[dict[str, Any] | None, list[SosCommand], str | None]:
    value, problem = members.document(SOS_MANIFEST)  # decoded under the document limits
    if problem or value is None:
        return None, [], problem
    if not isinstance(value, dict):
        return None, [], f"{SOS_MANIFEST}: not a JSON object"
    commands: list[SosCommand] = []
    for plugin in _dig(value, "components", "report", "plugins").values():
        if not isinstance(plugin, dict):
            continue
        hit = plugin.get("timeout_hit") is True
        listed = plugin.get("commands")
        for cmd in listed if isinstance(listed, list) else []:
            if isinstance(cmd, dict) and isinstance(cmd.get("exec"), str):
                commands.append(_command(cmd, hit))
    return value, commands, None


def _dig(value: dict[str, Any], *keys: str) -> dict[str, Any]:
    """`value[k1][k2]...`, or {} as soon as a level is missing or not an object."""
    for key in keys:
        found = value.get(key)
        if not isinstance(found, dict):
            return {}
        value = found
    return value


def _command(cmd: dict[str, Any], plugin_timeout: bool) -> SosCommand:
    rc = cmd.get("return_code")
    path = cmd.get("filepath")
    run_time = cmd.get("run_time")
    return SosCommand(
        exec=clean_name(cmd["exec"]),
        filepath=normalise_name(path) if isinstance(path, str) and path else None,
        return_code=rc if isinstance(rc, int) and not isinstance(rc, bool) else None,
        run_time=float(run_time) if isinstance(run_time, int | float) and not isinstance(run_time, bool) else None,
        truncated=cmd.get("truncated") is True,
        plugin_timeout=plugin_timeout,
    )


def _index(commands: list[SosCommand]) -> dict[str, SosCommand]:
    """Commands keyed by their output path and by their mangled name (for entries without a file)."""
    out: dict[str, SosCommand] = {}
    for cmd in commands:
        out.setdefault(f"name:{mangle(cmd.exec)}", cmd)
        if cmd.filepath:
            out.setdefault(cmd.filepath, cmd)
    return out


def _lookup(index: dict[str, SosCommand], sos_path: str) -> SosCommand | None:
    return index.get(sos_path) or (
        index.get(f"name:{posixpath.basename(sos_path)}") if sos_path.startswith("sos_commands/") else None
    )


def _timeouts_from_log(members: Members) -> set[str]:
    raw = members.data.get(SOS_LOG)
    if raw is None:
        return set()
    return {mangle(m.group("cmd")) for m in _TIMED_OUT.finditer(raw.decode("utf-8", errors="replace"))}


def _iso_time(value: object) -> str | None:
    """sos's start time as ISO 8601 (sos writes ISO or ctime-style `Thu Nov 26 10:00:00 2026`)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%a %b %d %H:%M:%S %Y")):
        try:
            return parse(text).isoformat()
        except ValueError:
            continue
    return None


def _host(members: Members, fallback: str) -> str:
    for path in ("hostname", "sos_commands/general/hostname", "sos_commands/host/hostname", "etc/hostname"):
        rel = resolve(members, path)
        if rel and members.data[rel].strip():
            return clean_name(members.data[rel].decode("utf-8", errors="replace").split()[0])
    m = _TOP_DIR.match(members.top or fallback)
    return m.group("host") if m else fallback


def read_sosreport(members: Members, path: str, fallback_host: str) -> Bundle:
    """Build the Bundle of a sosreport from its members."""
    manifest, commands, problem = load_sos_manifest(members)
    bundle = Bundle(path=path, kind="sosreport", host=_host(members, fallback_host), sha256=members.sha256)
    links = [p for p in members.problems if p.endswith(": symlink")]
    bundle.problems.extend(p for p in members.problems if not p.endswith(": symlink"))
    if links:
        bundle.problems.append(f"skipped {len(links)} symlinks (not followed; sos's tailed files resolved inside)")
    if problem:
        bundle.problems.append(problem)
    if manifest is not None:
        bundle.manifest = manifest
        version = manifest.get("version")
        bundle.collector_version = f"sos {clean_name(version)}" if isinstance(version, str) else None
        bundle.collected_at = _iso_time(manifest.get("start_time"))
    index = _index(commands)
    log_timeouts = set() if manifest is not None else _timeouts_from_log(members)
    used: list[str] = []
    for source in (*SOURCES, *SOS_ONLY_SOURCES):
        paths = source.sos_paths + _pattern_paths(members, source.id)
        sf = _map_source(members, source.id, paths, index, log_timeouts)
        if sf is None:
            continue
        used.append(sf.file)
        (bundle.files if sf.state in (SourceState.OK, SourceState.TRUNCATED) else bundle.missing)[sf.source] = sf
    add_text_members(members, bundle, [*used, SOS_MANIFEST, SOS_LOG])
    return bundle


def _pattern_paths(members: Members, source_id: str) -> tuple[str, ...]:
    """Members matching the source's SOS_PATTERNS, best first (patterns in order, newest file first)."""
    out: list[str] = []
    for pattern in SOS_PATTERNS.get(source_id, ()):
        found = (n for n in members.data if fnmatch.fnmatchcase(n, pattern))
        out.extend(sorted(found, key=_natural, reverse=True))
    return tuple(out)


def _natural(name: str) -> list[str | int]:
    """Sort key with numbers compared as numbers: `9.log` < `10.log`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _map_source(
    members: Members,
    source_id: str,
    sos_paths: tuple[str, ...],
    index: dict[str, SosCommand],
    log_timeouts: set[str],
) -> SourceFile | None:
    """The first sos path with a file wins; failing that, the first one sos says it tried."""
    found = [(p, resolve(members, p)) for p in sos_paths]
    chosen: tuple[str, str | None] | None = next(((p, rel) for p, rel in found if rel is not None), None)
    if chosen is None:
        tried = [p for p in sos_paths if _lookup(index, p) or posixpath.basename(p) in log_timeouts]
        if not tried:
            return None
        chosen = (tried[0], None)
    sos_path, rel = chosen
    cmd = _lookup(index, sos_path)
    sf = _file(members, source_id, rel, sos_path)
    sf.state = _state(sf, cmd, posixpath.basename(sos_path) in log_timeouts)
    if rel is not None and rel != sos_path and (rel.startswith("sos_strings/") or rel.endswith(".tailed")):
        sf.state = SourceState.TRUNCATED if sf.state is SourceState.OK else sf.state
        sf.notes.append(f"tailed by sos: {sos_path} links to {rel} (only the end of the output was kept)")
    if cmd is not None:
        sf.command = cmd.exec
        sf.exit_code = cmd.return_code
        sf.duration_ms = round(cmd.run_time * 1000) if cmd.run_time is not None else None
    if source_id == "flannel_journal" and sf.text:
        _filter_journal(sf)
    return sf


def _file(members: Members, source_id: str, rel: str | None, sos_path: str) -> SourceFile:
    if rel is None:
        return SourceFile(source=source_id, file=sos_path, text="", state=SourceState.NOT_COLLECTED)
    data = members.data[rel]
    text, replaced, notes = member_text(data)
    return SourceFile(source=source_id, file=rel, text=text, size=len(data), replaced_bytes=replaced, notes=notes)


def _state(sf: SourceFile, cmd: SosCommand | None, timed_out_in_log: bool) -> SourceState:
    rc = cmd.return_code if cmd else None
    has_text = bool(sf.text.strip())
    if rc in MISSING_RC:
        return SourceState.COMMAND_MISSING
    if rc == TIMEOUT_RC or timed_out_in_log or (cmd is not None and cmd.plugin_timeout and not has_text):
        return SourceState.TIMED_OUT
    if cmd is not None and cmd.truncated and has_text:
        return SourceState.TRUNCATED
    if not has_text:
        if rc not in (0, None):
            return SourceState.FAILED
        # sos 3.x wrote an empty file for a missing command: empty never means "no routes"
        return SourceState.NOT_COLLECTED if sf.state is SourceState.NOT_COLLECTED else SourceState.EMPTY
    if rc not in (0, None):
        sf.notes.append(f"exit code {rc} (output kept)")
    return SourceState.OK


def _filter_journal(sf: SourceFile) -> None:
    full_lines = count_lines(sf.text)
    sf.text, sf.line_map = filter_flannel(sf.text)
    sf.notes.append(f"full journal filtered to flannel's lines: {len(sf.line_map)} of {full_lines}")
    if not sf.line_map and sf.state in (SourceState.OK, SourceState.TRUNCATED):
        sf.state = SourceState.EMPTY
        sf.notes.append("the journal holds no flannel lines")
