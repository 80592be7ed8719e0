"""`lsmod` and `/proc/modules` -> Parsed[KernelModule], via templates/lsmod.ttp.

The `Module Size Used by` header is understood; rows are `name size count [users]` (lsmod) or
`name size count users state address [taint]` (/proc/modules, where users `-` means none and the
list ends with a comma). `used_by` lists the named users (lsmod's `[permanent]` is kept as text).
`expected` is the number of module rows.
"""

from __future__ import annotations

from pydantic import ValidationError

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.kernel import KernelModule
from netsnap.parsers.ttp_runner import run_template

SOURCE = "lsmod"


def parse(text: str, file: str) -> Parsed[KernelModule]:
    """Parse lsmod or /proc/modules; never raises."""
    try:
        return _parse(text, file)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a bug must not lose the file
        return Parsed[KernelModule](source=SOURCE, file=file,
                                    notes=[f"lsmod parser failed: {type(exc).__name__}: {exc}"],
                                    unparsed=[UnparsedLine(line=i, text=t) for i, t in enumerate(text.splitlines(), 1)
                                              if t.strip()])


def _parse(text: str, file: str) -> Parsed[KernelModule]:
    records, unparsed, lines = run_template("lsmod", text, "modules")
    items: list[KernelModule] = []
    notes: list[str] = []
    expected = 0
    for rec in records:
        if "header" in rec:
            continue
        ln = int(rec["ln"])
        raw = lines[ln - 1] if 0 < ln <= len(lines) else ""
        expected += 1
        users_text = str(rec.get("users", ""))
        users = [u for u in users_text.split(",") if u and u != "-"]
        count = str(rec.get("use_count", ""))
        try:
            items.append(KernelModule(name=str(rec["name"]), size=int(str(rec["size"])),
                                      used_by_count=int(count) if count.lstrip("-").isdigit() else None,
                                      used_by=users, src=Provenance(file=file, line=ln), raw=raw))
        except (ValidationError, ValueError, KeyError) as exc:
            unparsed.append(UnparsedLine(line=ln, text=raw))
            notes.append(f"line {ln}: unreadable module row ({type(exc).__name__})")
    unparsed.sort(key=lambda u: u.line)
    return Parsed[KernelModule](source=SOURCE, file=file, items=items, unparsed=unparsed, expected=expected,
                                notes=notes)
