"""Mapping a sosreport (tarball or extracted directory) onto netsnap's source ids.

Each source's sos names (`Source.sos_names`, netsnap/sources.py: the file, the plugin and the sos
releases that write it) are tried in order and the first present wins; a pattern name (`*`) takes
its newest match, and `every=True` names join every match into one source (one `ethtool_-k_DEV` per
device, every modprobe.d file) with each line traced back to its own file (`SourceFile.parts`). The
sosreport-only sources (`SOS_ONLY_SOURCES`: the nat, mangle and raw tables' list files) are mapped the
same way, and only appear in the bundle when sos wrote (or tried) their file.

Links are followed inside the archive only, component by component (`proc/net` -> `self/net`,
`lib` -> `usr/lib`), never on disk. sos's run data says why a file is missing:
`sos_reports/manifest.json` (sos >= 4): return code 126/127 means the command is missing (sos writes
no file then), 124 a timeout, `truncated` a tailed file; a plugin's `timeout_hit` marks its
uncollected commands as timed out. `sos_logs/sos.log` names the commands sos skipped (kernel modules
it checks for are not loaded: "not collected", with the reason) and, without a manifest (sos 3.x), the
timeouts; sos 3.x writes an empty file for a missing command, so empty never means "no routes". Files
sos tailed live in `sos_strings/` behind a link at the `sos_commands` path: the source is marked
truncated. The full journal is cut down to flannel's lines (`SourceFile.line_map`).

Commands sos ran in the other network namespaces (`ip_netns_exec_NS_...`, or the
`sos_commands/networking/namespaces/NS/` folder since sos 4.3) are never mapped to the host's
sources: they are listed in `Bundle.namespaces`. `Bundle.members` holds only the mapped files, the sos
manifest and sos.log: a sosreport has thousands of files netsnap never reads.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from netsnap.bundle.journal_filter import count_lines, filter_flannel
from netsnap.bundle.members import Members, clean_name, normalise_name
from netsnap.bundle.model import Bundle, SourceFile
from netsnap.bundle.text import add_text_members, member_text
from netsnap.model.host import SourceState
from netsnap.sources import SOS_ONLY_SOURCES, SOURCES, SosName, Source

SOS_MANIFEST = "sos_reports/manifest.json"
SOS_LOG = "sos_logs/sos.log"
SOS_NETNS = "sos_commands/networking/ip_netns"
MISSING_RC = (126, 127)
TIMEOUT_RC = 124
MAX_LINK_HOPS = 8

_TOP_DIR = re.compile(r"^sosreport-(?P<host>.+?)(?:-\d+)?-\d{4}-\d\d-\d\d-[A-Za-z0-9]+$")
_TIMED_OUT = re.compile(r"(?:\[plugin:(?P<plugin>[\w-]+)\] )?command '(?P<cmd>[^']+)' timed out")
_SKIPPED = re.compile(r"\[plugin:(?P<plugin>[\w-]+)\] skipped command '(?P<cmd>[^']+)': (?P<why>[^\n]*)")
_NS_DIR = re.compile(r"^sos_commands/networking/namespaces/(?P<ns>[^/]+)/")
_NS_EXEC = re.compile(r"^ip netns exec (?P<ns>\S+) ")
_NS_FILE = re.compile(r"^sos_commands/[^/]+/ip_netns_exec_(?P<rest>[^/]+)$")
# what follows the namespace in an `ip_netns_exec_NS_...` name (when sos's own list of names is missing)
_NS_GUESS = re.compile(r"^(?P<ns>.+?)_(?:ip|ip6?tables-save|ss|netstat|ethtool|sysctl|nstat|bpftool|tc|conntrack)"
                       r"(?:_|$)")


@dataclass
class SosCommand:
    """One command as sos's manifest recorded it."""

    exec: str
    filepath: str | None
    return_code: int | None
    run_time: float | None
    truncated: bool
    plugin_timeout: bool
    plugin: str = ""


@dataclass
class RunLog:
    """What sos's manifest and sos.log say about commands, keyed by the output path sos writes (or would
    have written: `sos_commands/PLUGIN/MANGLED`) for the command."""

    index: dict[str, SosCommand]
    timeouts: set[str]  # paths (or, when sos.log names no plugin, bare names) sos.log says timed out (sos 3.x)
    skipped: dict[str, str]  # path -> sos's reason for skipping the command

    def command(self, path: str) -> SosCommand | None:
        return self.index.get(path)

    def timed_out(self, path: str) -> bool:
        return path in self.timeouts or posixpath.basename(path) in self.timeouts

    def tried(self, path: str) -> bool:
        return path in self.index or self.timed_out(path) or path in self.skipped

    def paths(self) -> list[str]:
        """Every output path the run data names (for matching pattern names)."""
        return [*self.index, *(t for t in self.timeouts if "/" in t), *self.skipped]


def is_sosreport(members: Members) -> bool:
    names = list(members.data) + list(members.links)
    return any(n.startswith(("sos_commands/", "sos_reports/", "sos_logs/")) for n in names)


def mangle(command: str) -> str:
    """sos's file name for a command's output (`_mangle_command`)."""
    name = re.sub(r"^/(usr/)?(s)?bin/", "", command)
    name = re.sub(r"[^\w\-./]+", "_", name)
    return name.replace("/", ".").strip(" ._-")


def real_path(members: Members, rel: str, hops: int = MAX_LINK_HOPS) -> str | None:
    """`rel` with every link among its components replaced by its target, inside the archive only (an
    absolute target or one leaving the archive gives None); the result need not exist."""
    rel = normalise_name(rel)
    for _ in range(hops):
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            target = members.links.get(prefix)
            if target is not None:
                break
        else:
            return rel
        if target.startswith("/"):
            return None
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(prefix), target, *parts[i:]))
        if joined == ".." or joined.startswith("../"):
            return None
        rel = normalise_name(joined)
    return None


def resolve(members: Members, rel: str, hops: int = MAX_LINK_HOPS) -> str | None:
    """The member holding `rel`'s data, following links inside the archive only (never on disk)."""
    if rel in members.data:
        return rel
    real = real_path(members, rel, hops)
    return real if real is not None and real in members.data else None


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """`*` matches any run of characters except `/`; everything else is literal."""
    return re.compile("[^/]*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def _natural(name: str) -> list[str | int]:
    """Sort key with numbers compared as numbers: `9.log` < `10.log`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def matches(members: Members, name: SosName) -> list[tuple[str, str]]:
    """(path as sos named it, member holding its data) for `name`, in natural order of the path.

    A pattern is also matched below the real directory its literal part leads to, so that
    `lib/modprobe.d/*.conf` finds `usr/lib/modprobe.d/x.conf` when `lib` is a link to `usr/lib`.
    """
    if "*" not in name.path:
        rel = resolve(members, name.path)
        return [(name.path, rel)] if rel is not None else []
    head, _, _ = name.path.partition("*")
    literal_dir = head.rpartition("/")[0]
    patterns = [name.path]
    real_dir = real_path(members, literal_dir) if literal_dir else None
    if real_dir is not None and real_dir != literal_dir:
        patterns.append(real_dir + name.path[len(literal_dir):])
    found: dict[str, str] = {}
    for pattern in patterns:
        rx = _glob(pattern)
        for candidate in [*members.data, *members.links]:
            if rx.match(candidate) and candidate not in found:
                rel = resolve(members, candidate)
                if rel is not None and rel not in found.values():
                    found[candidate] = rel
    return sorted(found.items(), key=lambda item: _natural(item[0]))


def load_sos_manifest(members: Members) -> tuple[dict[str, Any] | None, list[SosCommand], str | None]:
    value, problem = members.document(SOS_MANIFEST)  # decoded under the document limits
    if problem or value is None:
        return None, [], problem
    if not isinstance(value, dict):
        return None, [], f"{SOS_MANIFEST}: not a JSON object"
    commands: list[SosCommand] = []
    for name, plugin in _dig(value, "components", "report", "plugins").items():
        if not isinstance(plugin, dict):
            continue
        hit = plugin.get("timeout_hit") is True
        listed = plugin.get("commands")
        for cmd in listed if isinstance(listed, list) else []:
            if isinstance(cmd, dict) and isinstance(cmd.get("exec"), str):
                commands.append(_command(cmd, hit, str(name)))
    return value, commands, None


def _dig(value: dict[str, Any], *keys: str) -> dict[str, Any]:
    """`value[k1][k2]...`, or {} as soon as a level is missing or not an object."""
    for key in keys:
        found = value.get(key)
        if not isinstance(found, dict):
            return {}
        value = found
    return value


def _command(cmd: dict[str, Any], plugin_timeout: bool, plugin: str) -> SosCommand:
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
        plugin=plugin,
    )


def _run_log(members: Members, commands: list[SosCommand], have_manifest: bool) -> RunLog:
    """Commands keyed by their output path (the manifest's, or the one sos would have written), plus
    sos.log's skipped commands and (sos 3.x, no manifest) timeouts."""
    index: dict[str, SosCommand] = {}
    for cmd in commands:
        if _NS_EXEC.match(cmd.exec):
            continue  # another namespace's command: never the host's
        if cmd.filepath:
            index.setdefault(cmd.filepath, cmd)
        index.setdefault(f"sos_commands/{cmd.plugin}/{mangle(cmd.exec)}", cmd)
    raw = members.data.get(SOS_LOG)
    log = raw.decode("utf-8", errors="replace") if raw is not None else ""
    timeouts: set[str] = set()
    if not have_manifest:
        for m in _TIMED_OUT.finditer(log):
            plugin = m.group("plugin")
            timeouts.add(f"sos_commands/{plugin}/{mangle(m.group('cmd'))}" if plugin else mangle(m.group("cmd")))
    skipped = {f"sos_commands/{m.group('plugin')}/{mangle(m.group('cmd'))}": m.group("why").strip()
               for m in _SKIPPED.finditer(log) if not _NS_EXEC.match(m.group("cmd"))}
    return RunLog(index, timeouts, skipped)


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


def sos_release(members: Members, manifest: dict[str, Any] | None) -> str | None:
    """The sos release that wrote the archive: the manifest's `version` (sos 4), else `version.txt`'s
    `sosreport: 3.9` line (sos 3)."""
    version = manifest.get("version") if manifest else None
    if isinstance(version, str) and version.strip():
        return version.strip()
    raw = members.data.get("version.txt")
    if raw is not None:
        m = re.search(r"^sosreport: *(\S+)", raw.decode("utf-8", errors="replace"), re.M)
        if m:
            return m.group(1)
    return None


def namespaces(members: Members, commands: list[SosCommand]) -> dict[str, list[str]]:
    """The other network namespaces sos ran commands in, each with its files (sorted)."""
    names = {m.group("ns") for c in commands if (m := _NS_EXEC.match(c.exec))}
    listing = members.data.get(SOS_NETNS)
    for line in (listing.decode("utf-8", errors="replace") if listing else "").splitlines():
        word = line.split(" ", 1)[0].strip()
        if word and not line[:1].isspace() and not line.startswith("Object "):
            names.add(word)
    by_prefix = sorted(((mangle(n), n) for n in names), key=lambda p: -len(p[0]))
    out: dict[str, list[str]] = {}
    for member in sorted({*members.data, *members.links}):
        ns = _namespace_of(member, by_prefix)
        if ns is not None:
            out.setdefault(clean_name(ns), []).append(member)
    return out


def _namespace_of(member: str, by_prefix: list[tuple[str, str]]) -> str | None:
    m = _NS_DIR.match(member)
    if m:
        return m.group("ns")
    m = _NS_FILE.match(member)
    if not m:
        return None
    rest = m.group("rest")
    for prefix, name in by_prefix:
        if rest.startswith(prefix + "_"):
            return name
    guess = _NS_GUESS.match(rest)
    return guess.group("ns") if guess else None


def read_sosreport(members: Members, path: str, fallback_host: str) -> Bundle:
    """Build the Bundle of a sosreport from its members."""
    manifest, commands, problem = load_sos_manifest(members)
    bundle = Bundle(path=path, kind="sosreport", host=_host(members, fallback_host), sha256=members.sha256)
    links = [p for p in members.problems if p.endswith(": symlink")]
    bundle.problems.extend(p for p in members.problems if not p.endswith(": symlink"))
    if links:
        bundle.problems.append(f"skipped {len(links)} symlinks (not followed; links inside the archive resolved)")
    if problem:
        bundle.problems.append(problem)
    if manifest is not None:
        bundle.manifest = manifest
        bundle.collected_at = _iso_time(manifest.get("start_time"))
    release = sos_release(members, manifest)
    bundle.collector_version = f"sos {release}" if release else None
    run = _run_log(members, commands, manifest is not None)
    bundle.namespaces = namespaces(members, commands)
    used: list[str] = []
    for source in (*SOURCES, *SOS_ONLY_SOURCES):
        sf = map_source(members, source, run)
        if sf is None:
            continue
        used.extend(member for member, _ in sf.parts or [(sf.file, 0)])
        (bundle.files if sf.state in (SourceState.OK, SourceState.TRUNCATED) else bundle.missing)[sf.source] = sf
    add_text_members(members, bundle, [*used, SOS_MANIFEST, SOS_LOG])
    return bundle


def map_source(members: Members, source: Source, run: RunLog) -> SourceFile | None:
    """The source's file in the archive (the first sos name present wins, or every match of
    `every` names joined); failing that, the first name sos says it tried or skipped; else None."""
    names = source.sos_names
    if names and names[0].every:
        found: list[tuple[SosName, str, str]] = []
        for name in names:
            found.extend((name, named, rel) for named, rel in matches(members, name)
                         if all(rel != seen for _, _, seen in found))
        if names[0].confd:  # by file name; an earlier directory's file hides a later one's of the same name
            first: dict[str, tuple[SosName, str, str]] = {}
            for hit in found:
                first.setdefault(posixpath.basename(hit[1]), hit)
            found = [first[b] for b in sorted(first, key=_natural)]
        if len(found) > 1:
            return _joined(members, source.id, found, run)
        chosen = (found[0][1], found[0][2]) if found else None
    else:
        chosen = next(((hits[-1]) for name in names if (hits := matches(members, name))), None)
    if chosen is None:
        tried = next((p for name in names for p in _tried_paths(name, run)), None)
        if tried is None:
            return None
        chosen = (tried, "")
    sos_path, rel = chosen
    return _single(members, source.id, sos_path, rel or None, run)


def _tried_paths(name: SosName, run: RunLog) -> list[str]:
    """Paths of `name` that sos's run data mentions (a command that ran without a file, timed out or was
    skipped)."""
    if "*" not in name.path:
        return [name.path] if run.tried(name.path) else []
    rx = _glob(name.path)
    return sorted({p for p in run.paths() if rx.match(p)})


def _single(members: Members, source_id: str, sos_path: str, rel: str | None, run: RunLog) -> SourceFile:
    cmd = run.command(sos_path)
    sf = _file(members, source_id, rel, sos_path)
    skipped = run.skipped.get(sos_path) if rel is None else None
    sf.state = _state(sf, cmd, run.timed_out(sos_path))
    if skipped is not None and cmd is None:
        sf.notes.append(f"sos skipped it: {skipped.rstrip('. ')}")
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


def _joined(members: Members, source_id: str, found: list[tuple[SosName, str, str]], run: RunLog) -> SourceFile:
    """One source from several members: their texts in order, each traced back by `parts`."""
    texts: list[str] = []
    parts: list[tuple[str, int]] = []
    notes: list[str] = []
    size = replaced = 0
    truncated = False
    run_ms: float = 0.0
    for _, named, rel in found:
        text, bad, member_notes = member_text(members.data[rel])
        if text and not text.endswith("\n"):
            text += "\n"
        texts.append(text)
        parts.append((rel, count_lines(text)))
        size += len(members.data[rel])
        replaced += bad
        notes.extend(f"{rel}: {n}" for n in member_notes)
        cmd = run.command(named)
        if cmd is not None:
            truncated = truncated or cmd.truncated
            run_ms += (cmd.run_time or 0.0) * 1000
        if rel != named and (rel.startswith("sos_strings/") or rel.endswith(".tailed")):
            truncated = True
            notes.append(f"tailed by sos: {named} links to {rel} (only the end of the output was kept)")
    text = "".join(texts)
    sf = SourceFile(source=source_id, file=found[0][0].path, text=text, size=size, replaced_bytes=replaced, notes=notes,
                    parts=parts)
    sf.notes.insert(0, f"{len(found)} files: " + ", ".join(rel for rel, _ in parts))
    sf.duration_ms = round(run_ms) if run_ms else None
    if not text.strip():
        sf.state = SourceState.EMPTY
    elif truncated:
        sf.state = SourceState.TRUNCATED
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
