"""What a bundle holds, source by source, as plain data (for `netsnap inventory` and reports).

Every registry source appears once, in registry order, with its state; sources that are neither in
`Bundle.files` nor in `Bundle.missing` are "not collected". Sosreport-only sources and ids the
registry does not know (from a newer collector's manifest) follow at the end, only when present. A
sosreport's other network namespaces (never part of the host's state) are listed with their files.
"""

from __future__ import annotations

from typing import Any

from netsnap.bundle.model import Bundle, SourceFile
from netsnap.model.host import SourceState
from netsnap.sources import BY_ID, SOS_ONLY_BY_ID, SOURCES


def _row(source_id: str, sf: SourceFile | None) -> dict[str, Any]:
    registry = BY_ID.get(source_id) or SOS_ONLY_BY_ID.get(source_id)
    return {
        "id": source_id,
        "title": registry.title if registry else source_id,
        "group": registry.group if registry else "other",
        "state": (sf.state if sf else SourceState.NOT_COLLECTED).value,
        "file": sf.file if sf else None,
        "size": sf.size if sf else 0,
        "command": sf.command if sf else None,
        "exit_code": sf.exit_code if sf else None,
        "duration_ms": sf.duration_ms if sf else None,
        "lines_kept": len(sf.line_map) if sf and sf.line_map is not None else None,
        "notes": list(sf.notes) if sf else [],
    }


def inventory(bundle: Bundle) -> dict[str, Any]:
    """A JSON-ready description of `bundle`: identity, per-source states, problems."""
    known = [s.id for s in SOURCES]
    extra = sorted((set(bundle.files) | set(bundle.missing)) - set(known))
    rows = [_row(sid, bundle.files.get(sid) or bundle.missing.get(sid)) for sid in [*known, *extra]]
    usable = (SourceState.OK.value, SourceState.TRUNCATED.value)
    return {
        "path": bundle.path,
        "kind": bundle.kind,
        "host": bundle.host,
        "sha256": bundle.sha256,
        "collector_version": bundle.collector_version,
        "collected_at": bundle.collected_at,
        "redactions": bundle.redactions,
        "found": sum(1 for r in rows if r["state"] in usable),
        "missing": sum(1 for r in rows if r["state"] not in usable),
        "sources": rows,
        "namespaces": [{"name": name, "files": list(files)} for name, files in sorted(bundle.namespaces.items())],
        "problems": list(bundle.problems),
    }
