"""`systemctl cat flanneld` (or a single unit file): one `SystemdUnit` with drop-ins applied.

TTP recognises `# /path` file headers, `[Section]` lines and `Key=value` settings; Python joins
backslash continuations (systemd replaces the backslash-newline by a space) and applies systemd's
list semantics in file order: later drop-ins add to `ExecStart=`, `EnvironmentFile=` and
`Environment=`, and an empty assignment resets the list. Only the `[Service]` section's settings
(or settings outside any section) are read; other keys are understood and skipped. Comment lines
(`#`, `;`) are understood.
"""

from __future__ import annotations

import posixpath

from netsnap.flannel.systemd_words import split_words
from netsnap.model.base import Parsed, Provenance
from netsnap.model.flannel import SystemdUnit
from netsnap.parsers.records import could_not_parse, never_raises
from netsnap.parsers.ttp_runner import run_template, unparsed_lines

SOURCE = "systemd_unit"
_UNIT_SUFFIXES = (".service", ".conf")


def _joined(lines: list[str], start: int) -> tuple[str, int]:
    """Setting text from 0-based line `start`, joining backslash continuations with one space (systemd
    replaces the backslash-newline by a space; the extra indentation only separates words); returns
    (text, last index)."""
    parts: list[str] = []
    i = start
    while True:
        line = lines[i].rstrip()
        if line.endswith("\\") and i + 1 < len(lines):
            parts.append(line[:-1].rstrip())
            i += 1
            continue
        parts.append(line)
        return " ".join(p.strip() if n else p for n, p in enumerate(parts)), i


@never_raises(Parsed[SystemdUnit], SOURCE)
def parse(text: str, file: str) -> Parsed[SystemdUnit]:
    """Parse a systemd unit dump into one SystemdUnit; never raises."""
    result: Parsed[SystemdUnit] = Parsed(source=SOURCE, file=file)
    try:
        records, _, lines = run_template("systemd_unit", text, "lines")
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a parser never raises on bad input
        return could_not_parse(result, text, exc)
    unit = SystemdUnit(name=posixpath.basename(file) or "flanneld.service", src=Provenance(file=file))
    consumed: set[int] = set()
    section: str | None = None
    settings = 0
    for rec in sorted(records, key=lambda r: int(r.get("ln", 0))):
        ln = int(rec["ln"])
        if ln in consumed or not 0 < ln <= len(lines):
            continue
        if "unit_path" in rec:
            path = rec["unit_path"]
            if not path.endswith(_UNIT_SUFFIXES):
                continue  # an ordinary comment that happens to start with a path
            consumed.add(ln)
            if not unit.files:
                unit.name = posixpath.basename(path)
                unit.src = Provenance(file=file, line=ln)
            unit.files.append(path)
            section = None
            continue
        if "section_name" in rec:
            consumed.add(ln)
            section = rec["section_name"]
            continue
        key = rec.get("unit_key", "")
        joined, last = _joined(lines, ln - 1)
        consumed.update(range(ln, last + 2))
        settings += 1
        if section not in (None, "Service"):
            continue
        value = joined.split("=", 1)[1].strip() if "=" in joined else ""
        _apply(unit, key, value, ln, file, result)
    result.unparsed = unparsed_lines(lines, consumed, ("#", ";"))  # comments are understood
    if unit.files or settings:
        result.items.append(unit)
        result.expected = 1
    return result


def _apply(unit: SystemdUnit, key: str, value: str, ln: int, file: str, result: Parsed[SystemdUnit]) -> None:
    if key == "ExecStart":
        if not value:
            unit.exec_start.clear()
            unit.exec_start_line = None
        else:
            unit.exec_start.append(value)
            unit.exec_start_line = ln
    elif key == "EnvironmentFile":
        if not value:
            unit.environment_files.clear()
            unit.environment_file_lines.clear()
        else:
            unit.environment_files.append(value)
            unit.environment_file_lines[value] = ln
    elif key == "Environment":
        if not value:
            unit.environment.clear()
            unit.environment_lines.clear()
            return
        words, error = split_words(value)
        if error:
            result.notes.append(f"{file}:{ln}: Environment=: {error}")
        for word in words:
            if "=" not in word:
                result.notes.append(f"{file}:{ln}: Environment=: ignoring {word!r} (no '=')")
                continue
            name, val = word.split("=", 1)
            unit.environment[name] = val
            unit.environment_lines[name] = ln
