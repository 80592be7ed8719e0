"""`nft -j list ruleset` -> one NftRuleset (libnftables-json(5) schema 1), read with `json`.

The document is `{"nftables": [{"metainfo": ...}, {"table": ...}, {"chain": ...}, {"rule": ...},
{"set": ...}, {"map": ...}, ...]}`. Tables, chains, rules, sets and maps become the model; every rule
statement becomes an NftExpr with its nft text rendered from the JSON (the evidence quotes it).
Statements this reader does not know are kept with `kind="unknown"` and counted in `unknown`; other
objects (flowtables, ct helpers, named counters...) are counted in a note.

Provenance: nft writes the whole document on one line, so every object is line 1 unless the JSON was
pretty-printed (then each object gets the line of its `"rule": {` key, counted in order). When the
same bundle has the text ruleset, the load layer points rules at their text lines by handle.
`expected` is the number of rule objects. Input beyond MAX_CHARS is refused with a note.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.nftables import FAMILIES, NftChain, NftExpr, NftFamily, NftRule, NftRuleset, NftSet, NftTable
from netsnap.parsers.nft_names import UNQUALIFIED_META, looks_like_iptables_nft, meta_key, reject_text
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import number_lines, unparsed_lines

SOURCE = "nft_json"
MAX_CHARS = 64 * 1024 * 1024
_SIMPLE_VERDICTS = ("accept", "drop", "continue", "return")
_NAT = ("dnat", "snat", "masquerade", "redirect")
_OTHER_STATEMENTS = ("notrack", "ct helper", "ct timeout", "ct expectation", "set", "map", "flow", "meter",
                     "dup", "secmark", "ct count", "last", "synproxy")
_LIMITS = ("limit", "quota", "ct count")
MARK_KEYS = frozenset({"meta mark", "ct mark"})


class _Unreadable(ValueError):
    """An expression shape this reader does not know (kept verbatim as unknown)."""


def show(value: Any) -> str:
    """nft's text for a JSON expression value (best effort, for evidence and unknowns)."""
    if isinstance(value, bool):
        return "exists" if value else "missing"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(show(v) for v in value)
    if isinstance(value, dict) and len(value) == 1:
        (key, body), = value.items()
        if key == "prefix" and isinstance(body, dict):
            return f"{show(body.get('addr'))}/{show(body.get('len'))}"
        if key == "range" and isinstance(body, list) and len(body) == 2:
            return f"{show(body[0])}-{show(body[1])}"
        if key == "set" and isinstance(body, list):
            items = [f"{show(e[0])} : {show(e[1])}" if isinstance(e, list) and len(e) == 2 else show(e) for e in body]
            return "{ " + ", ".join(items) + " }"
        if key == "set":
            return show(body)
        if key == "concat" and isinstance(body, list):
            return " . ".join(show(v) for v in body)
        if key in ("&", "|", "^", "<<", ">>") and isinstance(body, list) and len(body) == 2:
            return f"{show(body[0])} {key} {show(body[1])}"
        if key in ("accept", "drop", "continue", "return"):
            return str(key)
        if key in ("jump", "goto") and isinstance(body, dict):
            return f"{key} {body.get('target')}"
        try:
            return selector(value)
        except _Unreadable:
            pass
        if key == "elem" and isinstance(body, dict):
            return show(body.get("val"))
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def selector(value: Any) -> str:
    """The canonical key of a selector expression: `ip saddr`, `tcp dport`, `meta iifname`, `ct state`,
    `ct original saddr`, `fib daddr type`, `socket transparent`...; raises _Unreadable otherwise."""
    if not isinstance(value, dict) or len(value) != 1:
        raise _Unreadable(show_raw(value))
    (key, body), = value.items()
    if not isinstance(body, dict):
        raise _Unreadable(show_raw(value))
    if key == "payload":
        if "protocol" in body and "field" in body:
            return f"{body['protocol']} {body['field']}"
        if "base" in body:
            return f"@{body['base']},{body.get('offset')},{body.get('len')}"
    if key == "meta" and "key" in body:
        return meta_key(str(body["key"]))
    if key == "ct" and "key" in body:
        direction = f"{body['dir']} " if body.get("dir") else ""
        return f"ct {direction}{body['key']}"
    if key == "fib" and "result" in body:
        flags = body.get("flags") or []
        flags = [flags] if isinstance(flags, str) else flags
        return "fib " + " . ".join(str(f) for f in flags) + f" {body['result']}"
    if key in ("socket", "rt", "ipsec", "osf") and "key" in body:
        return f"{key} {body['key']}"
    if key == "exthdr" and "name" in body:
        return f"exthdr {body['name']}" + (f" {body['field']}" if body.get("field") else "")
    if key == "tcp option" and "name" in body:
        return f"tcp option {body['name']}" + (f" {body['field']}" if body.get("field") else "")
    if key == "numgen":
        return f"numgen {body.get('mode')} mod {body.get('mod')}" + (
            f" offset {body['offset']}" if body.get("offset") else "")
    if key in ("jhash", "symhash"):
        return str(key)
    raise _Unreadable(show_raw(value))


def show_raw(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _hex_marks(keys: list[str], value: Any) -> Any:
    """Marks as nft's text prints them (`0x00004000`), so both readers give the same values."""
    if len(keys) == 1 and keys[0] in MARK_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return f"0x{value:08x}"
    return value


def _keys(left: Any) -> tuple[list[str], str | None]:
    """Selector keys of a match's left side and its `& MASK` (concatenations give several keys)."""
    if isinstance(left, dict) and len(left) == 1:
        (key, body), = left.items()
        if key == "concat" and isinstance(body, list):
            return [selector(v) for v in body], None
        if key == "&" and isinstance(body, list) and len(body) == 2:
            keys, inner = _keys(body[0])
            if inner is not None:
                raise _Unreadable(show_raw(left))
            return keys, show(_hex_marks(keys, body[1]))
    return [selector(left)], None


def _is_meta_name(key: str) -> bool:
    return key.startswith("meta ") and key[5:] in UNQUALIFIED_META


def _right(right: Any) -> tuple[list[str], bool, str | None]:
    """(elements, anonymous set?, named set) of a match's right side."""
    if isinstance(right, str) and right.startswith("@"):
        return [], False, right[1:]
    if isinstance(right, dict) and set(right) == {"set"}:
        body = right["set"]
        if isinstance(body, list):
            return [show(e) for e in body], True, None
        if isinstance(body, str) and body.startswith("@"):
            return [], False, body[1:]
        return [show(body)], True, None
    if isinstance(right, list):  # flag lists: `ct state established,related` with op `in`
        return [show(e) for e in right], False, None
    return [show(right)], False, None


def _left_text(keys: list[str], mask: str | None) -> str:
    words = [k[5:] if _is_meta_name(k) and k != "meta mark" else k for k in keys]
    text = " . ".join(words)
    return f"{text} & {mask}" if mask is not None else text


def _quote_names(keys: list[str], values: list[str]) -> list[str]:
    if len(keys) == 1 and keys[0] in ("meta iifname", "meta oifname", "meta ibrname", "meta obrname"):
        return [f'"{v}"' for v in values]
    return values


def _match(body: dict[str, Any]) -> NftExpr:
    op = str(body.get("op", "=="))
    keys, mask = _keys(body.get("left"))
    values, anon, ref = _right(_hex_marks(keys, body.get("right")))
    shown = _quote_names(keys, values)
    rtext = f"@{ref}" if ref else ("{ " + ", ".join(shown) + " }" if anon else ",".join(shown))
    optext = "" if op == "in" or (op == "==" and mask is None) else f"{op} "
    return NftExpr(kind="match", text=f"{_left_text(keys, mask)} {optext}{rtext}", left=keys, mask=mask, op=op,
                   right=values, anonymous=anon, set_ref=ref)


def _verdict_of(value: Any) -> str:
    """`{"accept": null}` -> "accept"; `{"goto": {"target": "X"}}` -> "goto X"."""
    if isinstance(value, dict) and len(value) == 1:
        (key, body), = value.items()
        if key in _SIMPLE_VERDICTS:
            return str(key)
        if key in ("jump", "goto") and isinstance(body, dict) and isinstance(body.get("target"), str):
            return f"{key} {body['target']}"
    return show(value)


def _vmap(body: dict[str, Any]) -> NftExpr:
    keys, mask = _keys(body.get("key"))
    data = body.get("data")
    if isinstance(data, str) and data.startswith("@"):
        return NftExpr(kind="vmap", text=f"{_left_text(keys, mask)} vmap {data}", left=keys, mask=mask,
                       set_ref=data[1:])
    if not (isinstance(data, dict) and isinstance(data.get("set"), list)):
        raise _Unreadable(show_raw({"vmap": body}))
    pairs: list[tuple[str, str]] = []
    for elem in data["set"]:
        if not (isinstance(elem, list) and len(elem) == 2):
            raise _Unreadable(show_raw({"vmap": body}))
        pairs.append((show(elem[0]), _verdict_of(elem[1])))
    text = f"{_left_text(keys, mask)} vmap {{ " + ", ".join(f"{k} : {v}" for k, v in pairs) + " }"
    return NftExpr(kind="vmap", text=text, left=keys, mask=mask, mapping=pairs)


def _nat(kind: str, body: Any) -> NftExpr:
    if body is not None and not isinstance(body, dict):
        raise _Unreadable(show_raw({kind: body}))
    body = body or {}
    addr = show(body["addr"]) if "addr" in body else None
    port = show(body["port"]) if "port" in body else None
    fam = f"{body['family']} " if body.get("family") else ""
    flags = body.get("flags")
    flag_text = (" " + ",".join(flags if isinstance(flags, list) else [str(flags)])) if flags else ""
    if kind in ("masquerade", "redirect"):
        to = f" to :{port}" if port else ""
        text = f"{kind}{to}{flag_text}"
    else:
        target = (addr or "") + (f":{port}" if port else "")
        text = f"{kind} {fam}to {target}{flag_text}"
    known = kind in ("masquerade", "redirect") or addr is not None
    if addr is not None and isinstance(body.get("addr"), dict) and "map" in body["addr"]:
        known = False  # `dnat to ip daddr map { ... }`: a lookup this reader does not resolve
    return NftExpr(kind="nat", text=text, verdict=kind, addr=addr, port=port, known=known)


def statement(stmt: Any, family: str) -> NftExpr:
    """One rule statement as an NftExpr (kind "unknown" with its JSON as text when not understood)."""
    try:
        return _statement(stmt, family)
    except _Unreadable:
        return NftExpr(kind="unknown", text=show_raw(stmt), known=False)


def _statement(stmt: Any, family: str) -> NftExpr:
    if not isinstance(stmt, dict) or len(stmt) != 1:
        raise _Unreadable(show_raw(stmt))
    (key, body), = stmt.items()
    if key == "match" and isinstance(body, dict):
        return _match(body)
    if key in ("accept", "drop", "continue", "return"):
        return NftExpr(kind="verdict", text=key, verdict=key)
    if key in ("jump", "goto"):
        target = body.get("target") if isinstance(body, dict) else None
        if not isinstance(target, str):
            raise _Unreadable(show_raw(stmt))
        return NftExpr(kind="verdict", text=f"{key} {target}", verdict=key, target=target)
    if key == "reject":
        body = body if isinstance(body, dict) else {}
        with_ = reject_text(body.get("type"), body.get("expr"), family)
        explicit = body.get("type")
        return NftExpr(kind="verdict", text=f"reject with {with_}" if explicit else "reject", verdict="reject",
                       reject_with=with_)
    if key == "queue":
        return NftExpr(kind="verdict", text=f"queue {show(body)}" if body else "queue", verdict="queue")
    if key == "vmap" and isinstance(body, dict):
        return _vmap(body)
    if key in _NAT:
        return _nat(key, body)
    if key == "counter":
        return NftExpr(kind="counter", text=f"counter {show(body)}" if isinstance(body, str) else "counter")
    if key == "log":
        prefix = body.get("prefix") if isinstance(body, dict) else None
        return NftExpr(kind="log", text=f'log prefix "{prefix}"' if prefix else "log")
    if key == "limit" and isinstance(body, dict) and "rate" in body:
        over = "over " if body.get("inv") else ""
        unit = f" {body['rate_unit']}" if body.get("rate_unit") and body.get("rate_unit") != "packets" else ""
        return NftExpr(kind="limit", text=f"limit rate {over}{body['rate']}{unit}/{body.get('per', 'second')}",
                       known=False)
    if key in _LIMITS:
        return NftExpr(kind="limit", text=f"{key} {show(body)}", known=False)
    if key == "mangle" and isinstance(body, dict):
        keys, _ = _keys(body.get("key"))
        value = show(_hex_marks(keys, body.get("value")))
        return NftExpr(kind="mangle", text=f"{_left_text(keys, None)} set {value}", left=keys, value=value)
    if key == "xt" and isinstance(body, dict):
        return NftExpr(kind="xt", text=f"xt {body.get('type')} {body.get('name')}", value=str(body.get("name")),
                       verdict="target" if body.get("type") == "target" else None, known=False)
    if key in _OTHER_STATEMENTS:
        return NftExpr(kind="other", text=f"{key} {show(body)}" if body else key)
    raise _Unreadable(show_raw(stmt))


def _object_lines(lines: list[str], kind: str) -> list[int]:
    """The line of each `"<kind>": {` key in document order (pretty-printed JSON gives one per object)."""
    pat = re.compile(rf'(?<!\\)"{re.escape(kind)}"\s*:\s*\{{')
    out: list[int] = []
    for i, line in enumerate(lines, 1):
        out.extend(i for _ in pat.finditer(line))
    return out


class _Lines:
    """Line numbers for the objects of each kind, handed out in document order."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.cache: dict[str, list[int]] = {}
        self.used: dict[str, int] = {}

    def next(self, kind: str) -> int:
        found = self.cache.get(kind)
        if found is None:
            found = self.cache[kind] = _object_lines(self.lines, kind)
        k = self.used.get(kind, 0)
        self.used[kind] = k + 1
        return found[k] if k < len(found) else 0


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise _Unreadable(f"{key} missing")
    return value


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _family(body: dict[str, Any]) -> NftFamily:
    fam = _str(body, "family")
    if fam not in FAMILIES:
        raise _Unreadable(f"family {fam!r}")
    return cast(NftFamily, fam)


@never_raises(Parsed[NftRuleset], SOURCE)
def parse(text: str, file: str) -> Parsed[NftRuleset]:
    """Parse `nft -j list ruleset` output into one NftRuleset; never raises."""
    result: Parsed[NftRuleset] = Parsed(source=SOURCE, file=file)
    if len(text) > MAX_CHARS:
        result.notes.append(f"{file}: {len(text)} characters, more than the {MAX_CHARS} this reader accepts; "
                            "not parsed")
        result.unparsed = [UnparsedLine(line=1, text=text[:200])]
        return result
    _, lines = number_lines(text)
    if not text.strip():
        return result
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        result.notes.append(f"{file}: not valid JSON ({exc})")
        result.unparsed = unparsed_lines(lines, set())
        return result
    objects = doc.get("nftables") if isinstance(doc, dict) else None
    if not isinstance(objects, list):
        result.notes.append(f'{file}: no "nftables" list (not `nft -j list ruleset` output)')
        result.unparsed = unparsed_lines(lines, set())
        return result
    rs = _build(objects, file, _Lines(lines), result)
    result.items.append(rs)
    return result


def _build(objects: list[Any], file: str, at: _Lines, result: Parsed[NftRuleset]) -> NftRuleset:
    rs = NftRuleset(origin="json", file=file)
    other: dict[str, int] = {}
    rules = 0
    xt_tables: set[str] = set()
    for obj in objects:
        if not isinstance(obj, dict) or len(obj) != 1:
            result.notes.append(f"{file}: an entry of the nftables list is not an object of one kind; skipped")
            continue
        (kind, body), = obj.items()
        if not isinstance(body, dict):
            result.notes.append(f"{file}: {kind} entry is not an object; skipped")
            continue
        try:
            if kind == "metainfo":
                rs.version = str(body["version"]) if "version" in body else None
            elif kind == "table":
                fam = _family(body)
                name = _str(body, "name")
                flags = body.get("flags") or []
                rs.tables[f"{fam} {name}"] = NftTable(
                    family=fam, name=name, handle=_int(body.get("handle")),
                    flags=[flags] if isinstance(flags, str) else [str(f) for f in flags],
                    src=Provenance(file, at.next("table")))
            elif kind == "chain":
                _chain(rs, body, file, at.next("chain"))
            elif kind in ("set", "map"):
                _set(rs, kind, body, file, at.next(kind))
            elif kind == "rule":
                rules += 1
                if _rule(rs, body, file, at.next("rule")):
                    xt_tables.add(f"{body.get('family')} {body.get('table')}")
            else:
                other[kind] = other.get(kind, 0) + 1
        except _Unreadable as exc:
            result.notes.append(f"{file}: {kind} entry not understood ({exc}); skipped")
    for key, table in rs.tables.items():
        if looks_like_iptables_nft(table, key in xt_tables):
            rs.tables[key] = table.model_copy(update={"compat": True})
    rs.unknown = sum(1 for t in rs.tables.values() for c in t.chains.values() for r in c.rules
                     for e in r.exprs if e.kind == "unknown")
    result.expected = rules
    parsed = rs.rule_count()
    if parsed != rules:
        result.notes.append(f"{rules} rule objects, {parsed} rules parsed")
    if rs.unknown:
        result.notes.append(f"{rs.unknown} statements not understood (kept verbatim as unknown)")
    xt = sum(1 for t in rs.tables.values() for c in t.chains.values() for r in c.rules for e in r.exprs
             if e.kind == "xt")
    if xt:
        result.notes.append(f"{xt} iptables-nft xt expressions (their options are not in nft's output)")
    if other:
        result.notes.append("not modelled: " + ", ".join(f"{n} {k}" for k, n in sorted(other.items())))
    return rs


def _table_of(rs: NftRuleset, body: dict[str, Any]) -> NftTable:
    fam = _family(body)
    table = rs.tables.get(f"{fam} {_str(body, 'table')}")
    if table is None:
        raise _Unreadable(f"table {fam} {body.get('table')} not listed before its objects")
    return table


def _chain(rs: NftRuleset, body: dict[str, Any], file: str, line: int) -> None:
    table = _table_of(rs, body)
    name = _str(body, "name")
    prio = _int(body.get("prio"))
    dev = body.get("dev") or body.get("devices") or []
    table.chains[name] = NftChain(
        family=table.family, table=table.name, name=name, handle=_int(body.get("handle")),
        type=body.get("type") if isinstance(body.get("type"), str) else None,
        hook=body.get("hook") if isinstance(body.get("hook"), str) else None,
        priority=prio, priority_text=str(prio) if prio is not None else None,
        policy=body.get("policy") if isinstance(body.get("policy"), str) else None,
        devices=[dev] if isinstance(dev, str) else [str(d) for d in dev],
        src=Provenance(file, line))


def _set(rs: NftRuleset, kind: str, body: dict[str, Any], file: str, line: int) -> None:
    table = _table_of(rs, body)
    name = _str(body, "name")
    key_type = body.get("type")
    types = [key_type] if isinstance(key_type, str) else [str(t) for t in key_type or []]
    flags = body.get("flags") or []
    elements: list[str] = []
    values: list[str] = []
    for elem in body.get("elem") or []:
        if kind == "map" and isinstance(elem, list) and len(elem) == 2:
            elements.append(show(elem[0]))
            values.append(_verdict_of(elem[1]) if body.get("map") == "verdict" else show(elem[1]))
        else:
            elements.append(show(elem))
    data = body.get("map")
    table.sets[name] = NftSet(
        family=table.family, table=table.name, name=name, kind="map" if kind == "map" else "set",
        handle=_int(body.get("handle")), key_type=types, data_type=data if isinstance(data, str) else None,
        flags=[flags] if isinstance(flags, str) else [str(f) for f in flags], elements=elements, values=values,
        src=Provenance(file, line))


def _rule(rs: NftRuleset, body: dict[str, Any], file: str, line: int) -> bool:
    """Add one rule; True when it holds an iptables-nft `xt` expression."""
    table = _table_of(rs, body)
    cname = _str(body, "chain")
    chain = table.chains.get(cname)
    if chain is None:
        raise _Unreadable(f"chain {cname} not listed before its rules")
    exprs = [statement(s, table.family) for s in body.get("expr") or []]
    packets = bytes_ = None
    for s in body.get("expr") or []:
        if isinstance(s, dict) and isinstance(s.get("counter"), dict):
            packets, bytes_ = _int(s["counter"].get("packets")), _int(s["counter"].get("bytes"))
    comment = body.get("comment") if isinstance(body.get("comment"), str) else None
    raw = " ".join(e.text for e in exprs) + (f' comment "{comment}"' if comment else "")
    chain.rules.append(NftRule(
        src=Provenance(file, line), raw=raw, family=table.family, table=table.name, chain=cname,
        position=len(chain.rules) + 1, handle=_int(body.get("handle")), exprs=exprs, comment=comment,
        packets=packets, bytes=bytes_))
    return any(e.kind == "xt" for e in exprs)
