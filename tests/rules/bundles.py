"""Test helpers for fixture bundles: write a collector manifest for a directory of sources, and build a
per-rule case by overlaying `fixtures/rules/<ID>/<case>/<host>/...` on the healthy base in a temp dir."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from netsnap.sources import BY_PATH, MANIFEST_PATH

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
HEALTHY = FIXTURES / "healthy"
RULE_CASES = FIXTURES / "rules"
ABSENT_SUFFIX = ".absent"


def write_manifest(bundle: Path, hostname: str | None = None, collected_at: str = "2026-11-26T10:15:00Z") -> None:
    """(Re)write `bundle/manifest.json` from the source files present (sizes and sha256 computed)."""
    sources: list[dict[str, int | str | None]] = []
    for rel, src in sorted(BY_PATH.items()):
        path = bundle / rel
        if path.is_file():
            data = path.read_bytes()
            sources.append({
                "id": src.id, "path": rel, "command": src.command, "status": "ok" if data else "empty",
                "exit_code": 0, "duration_ms": 12, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                "truncated": False, "timed_out": False, "redacted": 0,
            })
        else:
            sources.append({
                "id": src.id, "path": rel, "command": src.command, "status": "absent", "exit_code": None,
                "duration_ms": 0, "size": 0, "sha256": None, "truncated": False, "timed_out": False, "redacted": 0,
            })
    name = hostname or (bundle / "identity/hostname").read_text().strip()
    manifest = {
        "format": "netsnap-bundle/1", "collector_version": "0.1.0", "collected_at": collected_at,
        "hostname": name, "sysroot": "/", "redactions": 0, "sources": sources,
    }
    (bundle / MANIFEST_PATH).write_text(json.dumps(manifest, indent=1) + "\n")


def build_case(rule_id: str, case: str, dest: Path) -> tuple[list[Path], list[str]]:
    """Copy the healthy hosts to `dest`, overlay the case's files (a file named `X.absent` deletes X), and
    rewrite the manifests. Returns the bundle paths and `HOST=FILE` security-group specs (from `sg-<host>.json`
    files in the case directory)."""
    case_dir = RULE_CASES / rule_id / case
    if not case_dir.is_dir():
        raise FileNotFoundError(case_dir)
    bundles = []
    for base in sorted(p for p in HEALTHY.iterdir() if p.is_dir()):
        target = dest / base.name
        shutil.copytree(base, target)
        overlay = case_dir / base.name
        if overlay.is_dir():
            for f in sorted(overlay.rglob("*")):
                if not f.is_file():
                    continue
                rel = f.relative_to(overlay)
                if rel.name.endswith(ABSENT_SUFFIX):
                    (target / rel.parent / rel.name[: -len(ABSENT_SUFFIX)]).unlink(missing_ok=True)
                    continue
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, target / rel)
        write_manifest(target)
        bundles.append(target)
    specs = [f"{p.stem[3:]}={p}" for p in sorted(case_dir.glob("sg-*.json"))]
    return bundles, specs


def cases() -> list[tuple[str, str]]:
    """Every (rule id, case) under fixtures/rules."""
    out = []
    if RULE_CASES.is_dir():
        for rule_dir in sorted(RULE_CASES.iterdir()):
            for case in ("fire", "pass"):
                if (rule_dir / case).is_dir():
                    out.append((rule_dir.name, case))
    return out
