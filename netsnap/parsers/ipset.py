"""`ipset save` and `ipset list` -> Parsed[IpSet], via templates/ipset.ttp.

save: `create NAME TYPE [OPTIONS]` then `add NAME MEMBER [member options]`.
list (what sosreports hold): `Name:`, `Type:`, `Header: OPTIONS`, `Revision:`, `Size in memory:`,
`References:`, `Number of entries: N`, `Members:` and one member per line; member lines have no
keyword, so the lines the template left unmatched inside a `Members:` section are the members.
Options become a dict (`family inet hashsize 1024` -> {"family": "inet", "hashsize": "1024"};
flag words such as `counters`/`comment` map to ""). `expected` is the number of sets declared;
an `add` for an undeclared set, or a member count that differs from "Number of entries", is a note.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.iptables import IpSet
from netsnap.parsers.ttp_runner import run_template

SOURCE = "ipset"
_VALUED = frozenset({"family", "hashsize", "maxelem", "timeout", "range", "netmask", "markmask", "size", "bucketsize",
                     "initval", "probes", "resize", "elements", "references", "memsize"})


def options_dict(text: str) -> dict[str, str]:
    """`family inet hashsize 1024 counters` -> {"family": "inet", "hashsize": "1024", "counters": ""}."""
    words = text.split()
    out: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word in _VALUED and i + 1 < len(words):
            out[word] = words[i + 1]
            i += 2
        else:
            out[word] = ""
            i += 1
    return out


def parse(text: str, file: str) -> Parsed[IpSet]:
    """Parse ipset save/list output; never raises."""
    try:
        return _parse(text, file)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a bug must not lose the file
        return Parsed[IpSet](source=SOURCE, file=file, notes=[f"ipset parser failed: {type(exc).__name__}: {exc}"],
                             unparsed=[UnparsedLine(line=i, text=t) for i, t in enumerate(text.splitlines(), 1)
                                       if t.strip()])


class _Set:
    def __init__(self, name: str, ln: int, raw: str) -> None:
        self.name = name
        self.ln = ln
        self.raw = raw
        self.set_type = ""
        self.options: dict[str, str] = {}
        self.members: list[str] = []
        self.entries: int | None = None


def _parse(text: str, file: str) -> Parsed[IpSet]:
    records, unmatched, lines = run_template("ipset", text, "lines")
    by_line: dict[int, dict[str, Any]] = {int(r["ln"]): r for r in records}
    unmatched_lines = {u.line for u in unmatched}
    sets: dict[str, _Set] = {}
    notes: list[str] = []
    unparsed: list[UnparsedLine] = []
    current: _Set | None = None  # list format: the set being described
    in_members = False
    for ln, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        rec = by_line.get(ln)
        if rec is None:
            if ln in unmatched_lines and in_members and current is not None:
                current.members.append(raw.strip())
            else:
                unparsed.append(UnparsedLine(line=ln, text=raw))
            continue
        if "create_name" in rec:
            name = str(rec["create_name"])
            st = sets.setdefault(name, _Set(name, ln, raw))
            st.set_type = str(rec.get("set_type", ""))
            st.options = options_dict(str(rec.get("opts", "")))
            current, in_members = None, False
        elif "add_name" in rec:
            name = str(rec["add_name"])
            if name not in sets:
                notes.append(f"line {ln}: add to undeclared set {name}")
                sets[name] = _Set(name, ln, raw)
            sets[name].members.append(str(rec.get("member", "")))
        elif "list_name" in rec:
            name = str(rec["list_name"])
            current = sets.setdefault(name, _Set(name, ln, raw))
            in_members = False
        elif current is None:
            unparsed.append(UnparsedLine(line=ln, text=raw))
        elif "list_type" in rec:
            current.set_type = str(rec["list_type"])
        elif "opts" in rec:
            current.options = options_dict(str(rec["opts"]))
        elif "entries" in rec:
            current.entries = int(str(rec["entries"]))
        elif "members_start" in rec:
            in_members = True
    items: list[IpSet] = []
    for st in sets.values():
        if st.entries is not None and st.entries != len(st.members):
            notes.append(f"set {st.name}: {st.entries} entries announced, {len(st.members)} members read")
        try:
            items.append(IpSet(name=st.name, set_type=st.set_type, options=st.options, members=st.members,
                               src=Provenance(file=file, line=st.ln), raw=st.raw))
        except ValidationError as exc:
            unparsed.append(UnparsedLine(line=st.ln, text=st.raw))
            notes.append(f"line {st.ln}: {exc.errors()[0]['msg']}")
    unparsed.sort(key=lambda u: u.line)
    return Parsed[IpSet](source=SOURCE, file=file, items=items, unparsed=unparsed, expected=len(sets), notes=notes)
