"""`iptables-save [-c]` (and ip6tables-save, iptables-legacy-save, iptables-nft-save) -> one Ruleset.

Lean path, measured (bench/run.py): the file is pre-split in Python; `*table`, `:CHAIN POLICY
[p:b]`, `[p:b] -A CHAIN spec` and `COMMIT` lines are read here and each rule specification by the
tokenizer in iptables_rule.py, because a TTP template over 100k `-A` lines is several times slower.
Only the `#` comment lines (version/backend header, legacy-tables warnings) go through the TTP
template `templates/iptables_save.ttp`.

- `variant` comes from the file name (the parse signature has no source id): `...legacy...` ->
  "iptables-legacy", `...nft...` -> "iptables-nft", `...ip6tables...` -> "ip6tables", else "iptables".
- `family` is ipv6 when the header says ip6tables-save, the variant is ip6tables, or an address is IPv6.
- `backend` from the header `(nf_tables)` / `(legacy)` / `xtables-save`; a version before 1.8 is legacy.
- `expected` is the number of `-A` lines; rules that could not be read are unparsed lines with a note,
  and the `:` chain-line count is checked against the chains found.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.iptables import Backend, Chain, IptRule, Ruleset, Table
from netsnap.model.unchecked import fast_record, key_sharing_dict
from netsnap.parsers.iptables_rule import SpecReader
from netsnap.parsers.ttp_runner import run_template

SOURCE = "iptables_save"
TABLES = ("filter", "nat", "mangle", "raw", "security")


def variant_for(file: str) -> str:
    """Ruleset variant from the bundle file name (see module docstring)."""
    base = file.replace("\\", "/").rsplit("/", 1)[-1].lower().replace("_", "-")
    if "iptables-legacy" in base:
        return "iptables-legacy"
    if "iptables-nft" in base:
        return "iptables-nft"
    if "ip6tables" in base:
        return "ip6tables"
    return "iptables"


def split_lines(text: str) -> list[str]:
    """Lines as ttp_runner numbers them: CRLF/CR normalised, NULs removed."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text.split("\n")


def _counters(text: str) -> tuple[int, int] | None:
    """`[12:3456]` -> (12, 3456); None when it is not a counter pair."""
    if len(text) < 5 or text[0] != "[" or text[-1] != "]":
        return None
    pkts, sep, byts = text[1:-1].partition(":")
    if not sep or not pkts.isdigit() or not byts.isdigit():
        return None
    return int(pkts), int(byts)


class _State:
    """Mutable parse state of one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.tables: dict[str, Table] = {}
        self.table: Table | None = None
        self.unparsed: list[UnparsedLine] = []
        self.notes: list[str] = []
        self.expected = 0
        self.chain_lines = 0
        self.implicit_chains: list[str] = []
        self.reader = SpecReader()

    def bad(self, ln: int, line: str, why: str) -> None:
        self.unparsed.append(UnparsedLine(line=ln, text=line))
        self.notes.append(f"line {ln}: {why}")


def parse(text: str, file: str) -> Parsed[Ruleset]:
    """Parse one save-format dump into exactly one Ruleset (never raises)."""
    variant = variant_for(file)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # ~10 records per rule and no cycles: cyclic GC passes only cost time (measured 2x)
    try:
        return _parse(text, file, variant)
    except Exception as exc:  # a bug must not lose the file: report it as one note, keep the lines
        lines = split_lines(text)
        return Parsed[Ruleset](
            source=SOURCE, file=file,
            items=[Ruleset(variant=variant, file=file)],
            unparsed=[UnparsedLine(line=i, text=ln) for i, ln in enumerate(lines, 1) if ln.strip()],
            notes=[f"iptables-save parser failed: {type(exc).__name__}: {exc}"],
        )
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse(text: str, file: str, variant: str) -> Parsed[Ruleset]:
    lines = split_lines(text)
    st = _State(file)
    comments: list[tuple[int, str]] = []
    for ln, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        head = line[0]
        if head == "-" or head == "[":
            _rule(st, ln, raw, line)
        elif head == ":":
            _chain(st, ln, raw, line)
        elif head == "*":
            name = line[1:].strip()
            if not name or " " in name:
                st.bad(ln, raw, "malformed table line")
                continue
            if st.table is not None:
                st.notes.append(f"line {ln}: table {st.table.name} has no COMMIT before *{name}")
            st.table = st.tables.get(name) or Table(name=name, src=Provenance(file=file, line=ln))
            st.tables[name] = st.table
        elif line == "COMMIT":
            if st.table is None:
                st.bad(ln, raw, "COMMIT outside a table")
            st.table = None
        elif head == "#":
            comments.append((ln, line))
        else:
            st.unparsed.append(UnparsedLine(line=ln, text=raw))
    family_v6, backend, version, warnings = _header(st, comments)
    if not st.tables and any(u.text.startswith("Chain ") for u in st.unparsed[:50]):
        st.notes.append("this looks like the list format (iptables -L), not iptables-save: read it as iptables_list")
    if st.table is not None:
        st.notes.append(f"table {st.table.name} has no COMMIT (truncated dump?)")
    rules = sum(len(c.rules) for t in st.tables.values() for c in t.chains.values())
    if rules != st.expected:
        st.notes.append(f"{st.expected} -A lines but {rules} rules parsed")
    chains = sum(len(t.chains) for t in st.tables.values()) - len(st.implicit_chains)
    if chains != st.chain_lines:
        st.notes.append(f"{st.chain_lines} chain lines but {chains} chains parsed")
    if st.implicit_chains:
        st.notes.append("rules for undeclared chains: " + ", ".join(sorted(set(st.implicit_chains))[:20]))
    family = "ipv6" if (family_v6 or variant == "ip6tables" or st.reader.saw_ipv6) else "ipv4"
    ruleset = Ruleset(variant=variant, family=family, backend=backend, version=version, warnings=warnings, file=file)
    ruleset.tables = st.tables  # assigned after validation: the tables were built from checked values
    st.unparsed.sort(key=lambda u: u.line)
    return Parsed[Ruleset](source=SOURCE, file=file, items=[ruleset], unparsed=st.unparsed,
                           expected=st.expected, notes=st.notes)


def _header(st: _State, comments: list[tuple[int, str]]) -> tuple[bool, Backend, str | None, list[str]]:
    """Read the `#` lines with the TTP template: (ip6tables header?, backend, version, warnings)."""
    backend: Backend = "unknown"
    version: str | None = None
    warnings: list[str] = []
    ipv6 = False
    if not comments:
        return ipv6, backend, version, warnings
    records, _unmatched, _ = run_template("iptables_save", "\n".join(c for _, c in comments), "comments")
    for rec in records:
        if "tool" in rec and version is None:
            tool = str(rec.get("tool", ""))
            version = str(rec.get("version", "")) or None
            ipv6 = tool.startswith("ip6")
            backend = _backend(str(rec.get("backend", "")), tool, version)
        elif "warning" in rec:
            warnings.append(str(rec["warning"]))
        elif "incompatible" in rec:
            warnings.append(f"Table {rec['incompatible']}")
    # other comment lines are comments: understood, not unparsed
    return ipv6, backend, version, warnings


def _backend(word: str, tool: str, version: str | None) -> Backend:
    if word in ("nf_tables", "legacy"):
        return "nf_tables" if word == "nf_tables" else "legacy"
    if tool.startswith("xtables"):
        return "nf_tables"
    if version:
        parts = version.split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and (int(parts[0]), int(parts[1])) < (1, 8):
            return "legacy"
    return "unknown"


def _chain(st: _State, ln: int, raw: str, line: str) -> None:
    """`:NAME POLICY [p:b]` (policy `-` for user chains; counters optional)."""
    st.chain_lines += 1
    parts = line[1:].split()
    if st.table is None or len(parts) < 2 or len(parts) > 3:
        st.bad(ln, raw, "chain line outside a table" if st.table is None else "malformed chain line")
        return
    name = sys.intern(parts[0])  # shared with the targets that jump here (SpecReader interns them)
    policy = parts[1] if len(parts) > 1 and parts[1] != "-" else None
    counters = _counters(parts[2]) if len(parts) > 2 else None
    if len(parts) > 2 and counters is None:
        st.bad(ln, raw, "malformed chain counters")
        return
    old = st.table.chains.get(name)
    chain = fast_record(Chain, {"name": name, "policy": policy, "packets": counters[0] if counters else None,
                                "bytes": counters[1] if counters else None, "rules": [],
                                "src": Provenance(st.file, ln)})
    if old is not None:
        chain.rules = old.rules
        if name in st.implicit_chains:
            st.implicit_chains.remove(name)
    st.table.chains[name] = chain


def _rule(st: _State, ln: int, raw: str, line: str) -> None:
    """`[p:b] -A CHAIN spec` (counters optional)."""
    counters: tuple[int, int] | None = None
    body = line
    if line[0] == "[":
        end = line.find("]")
        counters = _counters(line[: end + 1]) if end > 0 else None
        if counters is None:
            st.bad(ln, raw, "malformed rule counters")
            return
        body = line[end + 1:].lstrip()
    if not body.startswith(("-A ", "-A\t", "--append ")):
        st.bad(ln, raw, "not an -A rule line")
        return
    st.expected += 1
    table = st.table
    if table is None:
        st.bad(ln, raw, "rule outside a table")
        return
    words = body.split(None, 2)
    if len(words) < 2:
        st.bad(ln, raw, "rule without a chain")
        return
    chain_name = words[1]
    chain = table.chains.get(chain_name)
    if chain is None:
        chain = Chain(name=chain_name, src=Provenance(file=st.file, line=ln))
        table.chains[chain_name] = chain
        st.implicit_chains.append(chain_name)
    rules = chain.rules
    try:
        head, matches, target = st.reader.parts(words[2]) if len(words) > 2 else (_NO_HEAD, [], None)
    except ValueError as exc:
        st.bad(ln, raw, f"unreadable rule: {exc}")
        return
    if counters is None:
        counters = head[7]
    values = _RULE_KEYS.copy()  # a key-sharing dict: ~360 bytes less per rule than a dict literal
    values["src"] = Provenance(st.file, ln)
    values["raw"] = raw
    values["table"] = table.name
    values["chain"] = chain.name  # one string per chain, not one per rule
    values["position"] = len(rules) + 1
    values["source"] = head[0]
    values["destination"] = head[1]
    values["in_iface"] = head[2]
    values["out_iface"] = head[3]
    values["protocol"] = head[4]
    values["fragment"] = head[5]
    values["matches"] = matches
    values["target"] = target
    if counters is not None:
        values["packets"], values["bytes"] = counters
    obj = fast_record(IptRule, values)
    rules.append(obj)


_RULE_KEYS = key_sharing_dict(IptRule)
# `-A CHAIN` with nothing after it: matches everything, no target
_NO_HEAD: tuple[Any, ...] = (None, None, None, None, None, None, (), None)
