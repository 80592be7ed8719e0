"""`nft list ruleset` / `nft -a list ruleset` (and loose pastes of it) -> one NftRuleset.

The structure lines (`table`, `chain`, `set`, `map` headers, a chain's `type ... hook ... priority ...;
policy ...;`, a set's `type`/`typeof`/`flags`, closing braces, iptables-nft's "managed by iptables-nft"
warning) are read by the TTP template `templates/nft_text.ttp`; rule lines and set elements by the
statement reader in nft_statements.py. Every rule keeps its line and text; a trailing `# handle N`
(from `nft -a`) becomes its handle. Tolerated, as pastes have them: CRLF, any indentation, prompt and
comment lines around the ruleset (left unparsed), a truncated end (blocks still open are closed, with
a note), set elements over several lines. Objects the model does not hold (flowtables, ct helpers,
named counters, quotas...) are read over and named in a note. `expected` is the number of rule lines.
"""

from __future__ import annotations

import re
from typing import Any, cast

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.nftables import FAMILIES, NftChain, NftFamily, NftRule, NftRuleset, NftSet, NftTable
from netsnap.parsers.nft_names import looks_like_iptables_nft, priority_value
from netsnap.parsers.nft_statements import Unreadable, read_elements, read_rule
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import number_lines, run_template

SOURCE = "nft_text"
TEMPLATE = "nft_text"
_HANDLE = re.compile(r"\s+#\s*handle\s+(\d+)\s*$")
_HEADER = re.compile(
    r"^(?:table|chain|set|map|flowtable|counter|quota|limit|secmark|synproxy|tunnel|ct (?:helper|timeout|expectation))"
    r"\s+\S.*\{$")
_STRUCTURE_WORDS = ("type ", "typeof ", "flags ", "policy ")
_CONSUMED_IN_SET = ("size ", "timeout ", "gc-interval ", "policy ", "counter", "auto-merge", "comment ")
_WARNING = "# Warning: table "


def _clean(raw: str) -> tuple[str, int | None]:
    """The line without indentation and without a trailing `# handle N` (returned separately)."""
    line = raw.strip()
    m = _HANDLE.search(line)
    if m is None:
        return line, None
    return line[:m.start()].rstrip(), int(m.group(1))


class _Frame:
    def __init__(self, kind: str, obj: Any, ln: int) -> None:
        self.kind = kind  # table, chain, set, map, object
        self.obj = obj
        self.ln = ln


class _State:
    def __init__(self, file: str) -> None:
        self.file = file
        self.rs = NftRuleset(origin="text", file=file)
        self.stack: list[_Frame] = []
        self.unparsed: list[UnparsedLine] = []
        self.notes: list[str] = []
        self.rule_lines = 0
        self.objects: dict[str, int] = {}
        self.compat_marked: set[str] = set()
        self.xt_tables: set[str] = set()

    def bad(self, ln: int, raw: str, why: str | None = None) -> None:
        self.unparsed.append(UnparsedLine(line=ln, text=raw))
        if why:
            self.notes.append(f"line {ln}: {why}")

    @property
    def top(self) -> _Frame | None:
        return self.stack[-1] if self.stack else None

    def table(self) -> NftTable | None:
        for frame in reversed(self.stack):
            if frame.kind == "table":
                return cast(NftTable, frame.obj)
        return None


@never_raises(Parsed[NftRuleset], SOURCE)
def parse(text: str, file: str) -> Parsed[NftRuleset]:
    """Parse nft's text ruleset into one NftRuleset (an empty one for an empty file); never raises."""
    result: Parsed[NftRuleset] = Parsed(source=SOURCE, file=file)
    _, lines = number_lines(text)
    cleaned = [_clean(raw) for raw in lines]
    # the structure lines go through the template (same line numbers: every other line blanked)
    structure = "\n".join(line if _is_structure(line) else "" for line, _ in cleaned)
    records, _, _ = run_template(TEMPLATE, structure, "lines")
    by_line = {int(r["ln"]): r for r in records}
    st = _State(file)
    i = 0
    while i < len(lines):
        ln = i + 1
        line, handle = cleaned[i]
        i += 1
        if not line:
            continue
        rec = by_line.get(ln)
        if line.startswith("elements = {") or line.startswith("elements={"):
            i = _elements(st, lines, cleaned, i - 1)
            continue
        if rec is not None:
            _structure(st, ln, lines[ln - 1], rec, handle)
            continue
        top = st.top
        if top is not None and _read_over(top.kind, line):
            continue
        if top is not None and top.kind == "chain":
            _rule(st, ln, lines[ln - 1], line, handle, cast(NftChain, top.obj))
        else:
            st.bad(ln, lines[ln - 1])
    if st.stack:
        st.notes.append(f"{len(st.stack)} blocks not closed at the end of the file (truncated?); "
                        f"the last opened at line {st.stack[-1].ln}")
    _finish(st)
    result.items.append(st.rs)
    result.unparsed = st.unparsed
    result.notes.extend(st.notes)
    result.expected = st.rule_lines
    return result


def _read_over(kind: str, line: str) -> bool:
    """Lines that hold nothing the model keeps: an object's body, a set's size/timeout/..., comments."""
    if kind == "object":
        return True  # the body of a flowtable, ct helper, named counter...: named in a note
    if kind in ("set", "map"):
        return line.startswith(_CONSUMED_IN_SET)
    if kind == "chain" and line.startswith("devices = "):
        return True
    return kind in ("table", "chain") and line.startswith("comment ")


def _is_structure(line: str) -> bool:
    return bool(line) and (line == "}" or line.startswith(_STRUCTURE_WORDS) or line.startswith(_WARNING)
                           or bool(_HEADER.match(line)))


def _structure(st: _State, ln: int, raw: str, rec: dict[str, Any], handle: int | None) -> None:
    top = st.top
    src = Provenance(st.file, ln)
    if "family" in rec:
        fam = rec["family"]
        if fam not in FAMILIES or st.stack:
            st.bad(ln, raw, f"table {fam} {rec['name']} " + ("inside another block" if st.stack else
                                                               "of an unknown family"))
            return
        key = f"{fam} {rec['name']}"
        table = st.rs.tables.get(key) or NftTable(family=cast(NftFamily, fam), name=rec["name"], handle=handle,
                                                  src=src)
        st.rs.tables[key] = table
        st.stack.append(_Frame("table", table, ln))
    elif "chain_name" in rec or "set_name" in rec or "map_name" in rec or "object" in rec:
        owner = st.table()
        if owner is None or top is None or top.kind != "table":
            st.bad(ln, raw, "block outside a table")
            return
        table = owner
        if "chain_name" in rec:
            name = rec["chain_name"]
            chain = table.chains.get(name) or NftChain(family=table.family, table=table.name, name=name,
                                                       handle=handle, src=src)
            table.chains[name] = chain
            st.stack.append(_Frame("chain", chain, ln))
        elif "object" in rec:
            kind = rec["object"]
            st.objects[kind] = st.objects.get(kind, 0) + 1
            st.stack.append(_Frame("object", None, ln))
        else:
            kind = "set" if "set_name" in rec else "map"
            name = rec.get("set_name") or rec["map_name"]
            nset = NftSet(family=table.family, table=table.name, name=name, kind=kind, handle=handle, src=src)
            table.sets[name] = nset
            st.stack.append(_Frame(kind, nset, ln))
    elif "close" in rec:
        if not st.stack:
            st.bad(ln, raw, "closing brace without an open block")
            return
        st.stack.pop()
    elif "compat_family" in rec:
        st.compat_marked.add(f"{rec['compat_family']} {rec['compat_name']}")
    elif "ctype" in rec:
        if top is None or top.kind != "chain":
            st.bad(ln, raw, "chain type outside a chain")
            return
        chain = cast(NftChain, top.obj)
        chain.type, chain.hook = rec["ctype"], rec["hook"]
        chain.priority_text = rec["priority"].strip()
        chain.priority = priority_value(chain.priority_text, chain.family)
        if chain.priority is None:
            st.notes.append(f"line {ln}: priority {chain.priority_text!r} not understood")
        chain.policy = rec.get("policy")
        if rec.get("device"):
            chain.devices = [rec["device"].strip('"')]
        elif rec.get("devices"):
            chain.devices = [d.strip().strip('"') for d in rec["devices"].split(",") if d.strip()]
    elif "policy" in rec:
        if top is None or top.kind not in ("chain", "set", "map"):
            st.bad(ln, raw, "policy outside a chain")
            return
        if top.kind == "chain":
            cast(NftChain, top.obj).policy = rec["policy"]
    elif "set_type" in rec or "set_typeof" in rec or "flags" in rec:
        _set_line(st, ln, raw, rec)
    else:  # pragma: no cover - every template line sets one of the keys above
        st.bad(ln, raw)


def _set_line(st: _State, ln: int, raw: str, rec: dict[str, Any]) -> None:
    top = st.top
    if top is not None and top.kind == "table" and "flags" in rec:
        table = cast(NftTable, top.obj)
        table.flags = [f.strip() for f in rec["flags"].split(",")]
        return
    if top is not None and top.kind == "object":
        return
    if top is None or top.kind not in ("set", "map"):
        st.bad(ln, raw, "set property outside a set")
        return
    nset = cast(NftSet, top.obj)
    if "flags" in rec:
        nset.flags = [f.strip() for f in rec["flags"].split(",") if f.strip()]
        return
    spec = rec.get("set_type") or rec.get("set_typeof") or ""
    key, sep, data = spec.partition(" : ")
    nset.key_type = [k.strip() for k in key.split(" . ")]
    if sep:
        nset.data_type = data.strip()


def _elements(st: _State, lines: list[str], cleaned: list[tuple[str, int | None]], i: int) -> int:
    """Read `elements = { ... }` from line index `i` (it may span lines); returns the next index."""
    ln = i + 1
    top = st.top
    text = cleaned[i][0].split("=", 1)[1]
    depth = _depth(text)
    j = i + 1
    while depth > 0 and j < len(lines):
        part = cleaned[j][0]
        text += " " + part
        depth += _depth(part)
        j += 1
    if top is None or top.kind not in ("set", "map"):
        for k in range(i, j):
            st.bad(k + 1, lines[k], "elements outside a set" if k == i else None)
        return j
    nset = cast(NftSet, top.obj)
    try:
        elements = read_elements(text.strip())
    except Unreadable as exc:
        for k in range(i, j):
            st.bad(k + 1, lines[k], f"set {nset.name} elements not understood ({exc})" if k == i else None)
        return j
    if nset.kind == "map":
        for elem in elements:
            key, _, value = elem.partition(" : ")
            nset.elements.append(key)
            nset.values.append(value)
    else:
        nset.elements.extend(elements)
    if depth > 0:
        st.notes.append(f"line {ln}: set {nset.name} elements not closed")
    return j


def _depth(text: str) -> int:
    out = 0
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            out += 1 if ch == "{" else (-1 if ch == "}" else 0)
    return out


def _rule(st: _State, ln: int, raw: str, line: str, handle: int | None, chain: NftChain) -> None:
    st.rule_lines += 1
    parts = read_rule(line, chain.family)
    if not parts.exprs:
        st.bad(ln, raw, "no statement understood")
        return
    if any(e.kind == "xt" for e in parts.exprs):
        st.xt_tables.add(f"{chain.family} {chain.table}")
    chain.rules.append(NftRule(
        src=Provenance(st.file, ln), raw=raw.strip(), family=chain.family, table=chain.table, chain=chain.name,
        position=len(chain.rules) + 1, handle=handle, exprs=parts.exprs, comment=parts.comment,
        packets=parts.packets, bytes=parts.bytes))


def _finish(st: _State) -> None:
    for key, table in st.rs.tables.items():
        if key in st.compat_marked or looks_like_iptables_nft(table, key in st.xt_tables):
            table.compat = True
    st.rs.unknown = sum(1 for t in st.rs.tables.values() for c in t.chains.values() for r in c.rules
                        for e in r.exprs if e.kind == "unknown")
    if st.rs.unknown:
        st.notes.append(f"{st.rs.unknown} statements not understood (kept verbatim as unknown)")
    xt = sum(1 for t in st.rs.tables.values() for c in t.chains.values() for r in c.rules for e in r.exprs
             if e.kind == "xt")
    if xt:
        st.notes.append(f"{xt} iptables-nft xt expressions (their options are not in nft's output)")
    if st.objects:
        st.notes.append("not modelled: " + ", ".join(f"{n} {k}" for k, n in sorted(st.objects.items())))
    parsed = st.rs.rule_count()
    if parsed != st.rule_lines:
        st.notes.append(f"{st.rule_lines} rule lines, {parsed} rules parsed")
