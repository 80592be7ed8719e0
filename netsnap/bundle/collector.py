"""Mapping a netsnap collector bundle (manifest.json, format netsnap-bundle/1) onto source ids.

The manifest says, per source, how its command fared; that status becomes the `SourceState`. Files
listed as ok/truncated go to `Bundle.files`, the others (command missing, failed, timed out, empty,
absent) to `Bundle.missing` with whatever text they have. A file at a registry path that the manifest
does not list is still used (noted); a manifest entry whose file is missing is reported as a problem.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from netsnap.bundle.members import Members, clean_name, normalise_name, unsafe_name_reason
from netsnap.bundle.model import Bundle, SourceFile
from netsnap.bundle.text import add_text_members, member_text
from netsnap.model.host import SourceState
from netsnap.sources import BY_ID, BY_PATH, MANIFEST_PATH

FORMAT = "netsnap-bundle/1"

STATUS_STATE: dict[str, SourceState] = {
    "ok": SourceState.OK,
    "command-missing": SourceState.COMMAND_MISSING,
    "failed": SourceState.FAILED,
    "timed-out": SourceState.TIMED_OUT,
    "truncated": SourceState.TRUNCATED,
    "empty": SourceState.EMPTY,
    "absent": SourceState.NOT_COLLECTED,
}

MAX_UNKNOWN_IDS = 100  # source ids of a newer collector kept as sources; a manifest listing more is noise
MAX_ENTRY_PROBLEMS = 200  # problem lines about malformed manifest entries before they are only counted
_TOP_DIR = re.compile(r"^netsnap-(?P<host>.+)-\d{8}T?\d{6}Z?$")


def load_manifest(members: Members) -> tuple[dict[str, Any] | None, str | None]:
    """The parsed manifest.json (a JSON object, decoded once under the document limits), or None and
    why it is unusable (None if absent)."""
    value, problem = members.document(MANIFEST_PATH)
    if problem or value is None:
        return None, problem
    if not isinstance(value, dict):
        return None, f"{MANIFEST_PATH}: not a JSON object"
    return value, None


def is_collector(members: Members) -> bool:
    """A collector bundle: a manifest of our format, or (manifest lost) files at registry paths."""
    manifest, _ = load_manifest(members)
    if manifest is not None:
        return manifest.get("format") == FORMAT
    if MANIFEST_PATH in members.data:
        return any(p in members.data for p in BY_PATH)
    return sum(p in members.data for p in BY_PATH) >= 2


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    """A string field of the manifest, printable on one line (control characters escaped)."""
    return clean_name(value) if isinstance(value, str) else None


def _host(members: Members, manifest: dict[str, Any], fallback: str) -> str:
    name = _str(manifest.get("hostname"))
    if name and name.strip():
        return clean_name(name.strip())
    raw = members.data.get(BY_ID["hostname"].path)
    if raw and raw.strip():
        return clean_name(raw.decode("utf-8", errors="replace").split()[0])
    m = _TOP_DIR.match(members.top or fallback)
    return m.group("host") if m else fallback


def read_collector(members: Members, path: str, fallback_host: str) -> Bundle:
    """Build the Bundle of a collector bundle from its members."""
    manifest, problem = load_manifest(members)
    bundle = Bundle(path=path, kind="collector", host=fallback_host, sha256=members.sha256)
    bundle.problems.extend(members.problems)
    if problem:
        bundle.problems.append(problem)
    if manifest is None:
        manifest = {}
        if not problem:
            bundle.problems.append(f"no {MANIFEST_PATH}: source states are guessed from the files present")
    bundle.manifest = manifest
    bundle.host = _host(members, manifest, fallback_host)
    bundle.collector_version = _str(manifest.get("collector_version"))
    bundle.collected_at = _str(manifest.get("collected_at"))
    bundle.redactions = _int(manifest.get("redactions")) or 0
    listed = _map_manifest_entries(members, manifest, bundle)
    for rel, source in BY_PATH.items():
        if source.id in listed or rel not in members.data:
            continue
        sf = _source_file(members, source.id, rel, SourceState.OK)
        if not manifest:
            sf.state = SourceState.OK if sf.text.strip() else SourceState.EMPTY
        else:
            sf.notes.append(f"not listed in {MANIFEST_PATH}")
        _place(bundle, sf)
    add_text_members(members, bundle)
    return bundle


def _source_file(members: Members, source_id: str, rel: str, state: SourceState) -> SourceFile:
    data = members.data.get(rel, b"")
    text, replaced, notes = member_text(data)
    return SourceFile(source=source_id, file=rel, text=text, state=state, size=len(data),
                      replaced_bytes=replaced, notes=notes)


def _place(bundle: Bundle, sf: SourceFile) -> None:
    if sf.state in (SourceState.OK, SourceState.TRUNCATED):
        bundle.files[sf.source] = sf
    else:
        bundle.missing[sf.source] = sf


def _map_manifest_entries(members: Members, manifest: dict[str, Any], bundle: Bundle) -> set[str]:
    entries = manifest.get("sources", [])
    if not isinstance(entries, list):
        bundle.problems.append(f"{MANIFEST_PATH}: 'sources' is not a list")
        return set()
    listed: set[str] = set()
    unknown = malformed = 0
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            malformed += 1
            if malformed <= MAX_ENTRY_PROBLEMS:
                bundle.problems.append(f"{MANIFEST_PATH}: sources[{i}] has no id")
            continue
        source_id = clean_name(entry["id"])
        if source_id in listed:
            bundle.problems.append(f"{MANIFEST_PATH}: sources[{i}]: {source_id!r} listed again (kept the first)")
            continue
        if source_id not in BY_ID:
            unknown += 1
            if unknown > MAX_UNKNOWN_IDS:
                continue
        sf = _entry_file(members, {**entry, "id": source_id}, bundle)
        if sf is None:
            continue
        listed.add(sf.source)
        _place(bundle, sf)
    if malformed > MAX_ENTRY_PROBLEMS:
        bundle.problems.append(f"{MANIFEST_PATH}: {malformed - MAX_ENTRY_PROBLEMS:,} more entries without an id")
    if unknown > MAX_UNKNOWN_IDS:
        bundle.problems.append(f"{MANIFEST_PATH}: {unknown - MAX_UNKNOWN_IDS:,} more unknown source ids ignored "
                               f"(only the first {MAX_UNKNOWN_IDS} are kept)")
    return listed


def _entry_file(members: Members, entry: dict[str, Any], bundle: Bundle) -> SourceFile | None:
    source_id: str = entry["id"]
    registry = BY_ID.get(source_id)
    if registry is None:
        bundle.problems.append(f"{MANIFEST_PATH}: unknown source id {source_id!r}")
    raw_status = entry.get("status", "ok")
    status = clean_name(raw_status if isinstance(raw_status, str) else repr(raw_status))[:100]
    state = STATUS_STATE.get(status)
    raw_path = _str(entry.get("path")) or (registry.path if registry else "")
    rel = "" if unsafe_name_reason(raw_path) else normalise_name(raw_path)
    if state is None:
        bundle.problems.append(f"{MANIFEST_PATH}: {source_id}: unknown status {status!r}")
        state = SourceState.FAILED
    present = rel in members.data
    if state in (SourceState.OK, SourceState.TRUNCATED) and not present:
        bundle.problems.append(f"{MANIFEST_PATH} lists {rel or raw_path!r} for {source_id} but the file is missing")
        state = SourceState.UNREADABLE
    sf = _source_file(members, source_id, rel or raw_path, state) if present else SourceFile(
        source=source_id, file=rel or raw_path, text="", state=state)
    if state is SourceState.OK and present and not sf.text.strip():
        sf.state = SourceState.EMPTY
    sf.command = _str(entry.get("command"))
    sf.exit_code = _int(entry.get("exit_code"))
    sf.duration_ms = _int(entry.get("duration_ms"))
    sf.sha256 = _str(entry.get("sha256"))
    if present and sf.sha256 and hashlib.sha256(members.data[rel]).hexdigest() != sf.sha256.lower():
        # cut or edited after collection: what it holds is not what the host printed, so it decides nothing
        bundle.problems.append(f"{rel}: sha256 differs from {MANIFEST_PATH} (file changed after collection)")
        sf.state = SourceState.UNREADABLE
        sf.notes.insert(0, f"sha256 differs from {MANIFEST_PATH}: the file changed after collection (truncated "
                           "or edited)")
    if entry.get("truncated") is True and sf.state is SourceState.OK:
        sf.state = SourceState.TRUNCATED
    redacted = _int(entry.get("redacted"))
    if redacted:
        sf.notes.append(f"{redacted} secrets redacted by the collector")
    return sf

