"""The iptables list format (`iptables [-t T] -nvL`, `-vnxL`, `-nL`; what sosreports hold) -> one Ruleset.

The file is pre-split in Python: chain headers and table hints go through the TTP template
`templates/iptables_list.ttp`; rule rows (pkts bytes target prot opt in out source destination
+ match text) are read here, because a TTP pass over 100k rows is several times slower.

- `variant` is "list". Table name: a preceding `# Table: nat` (or `Table: nat`) line, else a
  `-t NAME` in the file name (sos: `iptables_-t_nat_-nvL`), else "filter". When a built-in chain
  header repeats without a table hint, a second table was concatenated: it is named
  "unknown-2", "unknown-3"... with a note, rather than merged.
- Counters: `-vnxL` exact; `-nvL` abbreviates with K/M/G/T (powers of 1000, as iptables prints),
  which become approximate integers (12K -> 12000). `-nL` has no counters (None).
- The match text is mapped onto the save format's MatchModule/Target structure where the shape is
  known (`udp dpt:8472` -> udp [--dport 8472], `/* c */` -> comment, `ctstate NEW` -> conntrack,
  `match-set S src` -> set, `ADDRTYPE match dst-type LOCAL` -> addrtype, `statistic mode random
  probability P`, `mark match X`, `PHYSDEV match --physdev-is-bridged`, `multiport dports`, `state`,
  `icmptype N`, `limit: avg R burst B`); target text (`reject-with X`, `to:A:P`, `MARK or X`,
  `random-fully`, `[goto]`) goes to Target options. Anything else stays verbatim (known=False).
- `expected` is the number of rule rows; the parsed rules must account for it.
"""

from __future__ import annotations

import gc
import re
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.iptables import (
    AddrMatch,
    Chain,
    IptRule,
    MatchModule,
    MatchOption,
    NameMatch,
    Ruleset,
    Table,
    Target,
)
from netsnap.model.unchecked import fast_record, slim_record
from netsnap.parsers.iptables_rule import KNOWN_MODULES, parse_net
from netsnap.parsers.iptables_save import split_lines
from netsnap.parsers.ttp_runner import run_template

SOURCE = "iptables_list"
BUILTIN_CHAINS = frozenset({"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"})
_SUFFIX = {"K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5}
_OPT = frozenset({"--", "-f", "!f"})
_TABLE_IN_NAME = re.compile(r"(?:^|[_\s])-t[_\s]+([A-Za-z0-9]+)")
_COMMENT = re.compile(r"/\* (.*?) \*/")
_PORT = re.compile(r"^(spts?|dpts?):(!?)(\S+)$")
_ANY_NET = {"0.0.0.0/0", "::/0"}
_OPTION_TARGETS = frozenset({"REJECT", "DNAT", "SNAT", "MARK", "MASQUERADE", "LOG"})


def counter(text: str) -> int | None:
    """`1234` -> 1234, `12K` -> 12000 (iptables' 1000-based abbreviations); None if not a counter."""
    if text.isdigit():
        return int(text)
    if len(text) > 1 and text[-1] in _SUFFIX and text[:-1].isdigit():
        return int(text[:-1]) * _SUFFIX[text[-1]]
    return None


def table_from_file(file: str) -> str | None:
    """`sos_commands/firewall_tables/iptables_-t_nat_-nvL` -> "nat"."""
    m = _TABLE_IN_NAME.search(file.replace("\\", "/").rsplit("/", 1)[-1])
    return m.group(1) if m else None


class _State:
    def __init__(self, file: str) -> None:
        self.file = file
        self.tables: dict[str, Table] = {}
        self.table_name = table_from_file(file) or "filter"
        self.table: Table | None = None
        self.chain: Chain | None = None
        self.verbose: bool | None = None
        self.unparsed: list[UnparsedLine] = []
        self.notes: list[str] = []
        self.expected = 0
        self.unknown_tables = 1
        self.ipv6 = False
        # records parsed from identical text are shared between rows (the parsed model is read-only)
        self.addrs: dict[str, AddrMatch | None] = {}
        self.extras: dict[tuple[str, str | None], tuple[list[MatchModule], dict[str, str], bool]] = {}
        self.targets: dict[tuple[str, tuple[str, str | None]], Target] = {}
        self.names: dict[str, NameMatch] = {}

    def name(self, text: str) -> NameMatch:
        found = self.names.get(text)
        if found is None:
            found = self.names[text] = _name(text)
        return found

    def bad(self, ln: int, line: str, why: str) -> None:
        self.unparsed.append(UnparsedLine(line=ln, text=line))
        self.notes.append(f"line {ln}: {why}")

    def current_table(self, ln: int) -> Table:
        if self.table is None:
            self.table = self.tables.get(self.table_name)
            if self.table is None:
                self.table = Table(name=self.table_name, src=Provenance(file=self.file, line=ln))
                self.tables[self.table_name] = self.table
        return self.table


def parse(text: str, file: str) -> Parsed[Ruleset]:
    """Parse one list-format dump (possibly several tables concatenated) into one Ruleset; never raises."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # many records, no cycles: cyclic GC passes only cost time
    try:
        return _parse(text, file)
    except Exception as exc:  # a bug must not lose the file: keep every line, say why
        lines = split_lines(text)
        return Parsed[Ruleset](
            source=SOURCE, file=file, items=[Ruleset(variant="list", file=file)],
            unparsed=[UnparsedLine(line=i, text=ln) for i, ln in enumerate(lines, 1) if ln.strip()],
            notes=[f"iptables list parser failed: {type(exc).__name__}: {exc}"])
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse(text: str, file: str) -> Parsed[Ruleset]:
    lines = split_lines(text)
    st = _State(file)
    # pass 1: which lines are headers (for TTP), which are rows
    header_lines: list[int] = []
    for ln, raw in enumerate(lines, 1):
        s = raw.lstrip()
        if s.startswith(("Chain ", "# Table:", "Table:")):
            header_lines.append(ln)
    headers = _headers(lines, header_lines)
    for ln, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if ln in headers:
            _header(st, ln, raw, headers[ln])
            continue
        if line.startswith(("Chain ", "# Table:", "Table:")):
            st.bad(ln, raw, "malformed chain header")
            st.chain = None  # the rows that follow belong to a chain we cannot name
            continue
        words = line.split()
        if words[0] in ("pkts", "target"):
            if st.chain is None:
                st.bad(ln, raw, "column header outside a chain")
            else:
                st.verbose = words[0] == "pkts"
            continue
        if line.startswith("#"):
            continue  # a comment (e.g. added by a collector): understood, nothing to keep
        if st.chain is None:
            st.unparsed.append(UnparsedLine(line=ln, text=raw))
            continue
        st.expected += 1
        try:
            rule = _row(st, ln, raw, words, line)
        except ValueError as exc:
            rule = None
            st.bad(ln, raw, f"unreadable rule row: {exc}")
        if rule is not None:
            st.chain.rules.append(rule)
    parsed = sum(len(c.rules) for t in st.tables.values() for c in t.chains.values())
    if not st.tables and any(u.text.startswith(("*", ":", "-A ")) for u in st.unparsed[:50]):
        st.notes.append("this looks like the save format (iptables-save), not iptables -L: read it as iptables_save")
    if parsed != st.expected:
        st.notes.append(f"{st.expected} rule rows but {parsed} rules parsed")
    ruleset = Ruleset(variant="list", family="ipv6" if st.ipv6 else "ipv4", file=file)
    ruleset.tables = st.tables
    st.unparsed.sort(key=lambda u: u.line)
    return Parsed[Ruleset](source=SOURCE, file=file, items=[ruleset], unparsed=st.unparsed,
                           expected=st.expected, notes=st.notes)


def _headers(lines: list[str], numbers: list[int]) -> dict[int, dict[str, Any]]:
    if not numbers:
        return {}
    records, _unmatched, _ = run_template("iptables_list", "\n".join(lines[n - 1] for n in numbers), "headers")
    out: dict[int, dict[str, Any]] = {}
    for rec in records:
        try:
            out[numbers[int(rec["ln"]) - 1]] = rec
        except (KeyError, ValueError, IndexError):
            continue
    return out


def _header(st: _State, ln: int, raw: str, rec: dict[str, Any]) -> None:
    if "table_name" in rec:
        st.table_name = str(rec["table_name"])
        st.table = None
        st.chain = None
        return
    name = str(rec.get("chain_name", ""))
    table = st.current_table(ln)
    if name in table.chains and name in BUILTIN_CHAINS:
        st.unknown_tables += 1
        st.table_name = f"unknown-{st.unknown_tables}"
        st.notes.append(f"line {ln}: chain {name} repeats without a table hint; new table {st.table_name}")
        st.table = None
        table = st.current_table(ln)
    policy = rec.get("policy")
    pkts = counter(str(rec["pkts"])) if "pkts" in rec else None
    byts = counter(str(rec["byts"])) if "byts" in rec else None
    if ("pkts" in rec and pkts is None) or ("byts" in rec and byts is None):
        st.bad(ln, raw, "malformed chain counters")
    chain = fast_record(Chain, {"name": name, "policy": str(policy) if policy else None, "packets": pkts,
                                "bytes": byts, "rules": [], "src": Provenance(st.file, ln)})
    table.chains[name] = chain
    st.chain = chain


def _row(st: _State, ln: int, raw: str, words: list[str], line: str) -> IptRule | None:
    """One rule row; returns None (and records why) when the columns do not fit."""
    verbose = st.verbose
    if verbose is None:  # no column header seen: guess from the shape
        verbose = counter(words[0]) is not None and len(words) > 1 and counter(words[1]) is not None
    pkts = byts = None
    i = 0
    if verbose:
        pkts = counter(words[0])
        byts = counter(words[1]) if len(words) > 1 else None
        if pkts is None or byts is None:
            st.bad(ln, raw, "rule row without counters")
            return None
        i = 2
    # target may be empty: then the opt column comes one earlier
    if len(words) > i + 2 and words[i + 2] in _OPT:
        target_name: str | None = words[i]
        i += 1
    elif len(words) > i + 1 and words[i + 1] in _OPT:
        target_name = None
    else:
        st.bad(ln, raw, "rule row columns not recognised")
        return None
    prot, opt = words[i], words[i + 1]
    i += 2
    in_if = out_if = None
    if verbose:
        if len(words) < i + 4:
            st.bad(ln, raw, "rule row too short")
            return None
        in_if, out_if = words[i], words[i + 1]
        i += 2
    if len(words) < i + 2:
        st.bad(ln, raw, "rule row too short")
        return None
    src, dst = words[i], words[i + 1]
    i += 2
    extra = _rest_after(line, words, i)
    table = st.current_table(ln)
    chain = st.chain
    assert chain is not None
    addrs = st.addrs
    source = addrs[src] if src in addrs else addrs.setdefault(src, _addr(src))
    destination = addrs[dst] if dst in addrs else addrs.setdefault(dst, _addr(dst))
    if not st.ipv6 and any(a is not None and isinstance(a.net, IPv6Network) for a in (source, destination)):
        st.ipv6 = True
    # target options are read only for a few targets: for the others the target name does not
    # change how the text reads, so rows that differ only in the target share the parsed text
    key = (extra, target_name if target_name in _OPTION_TARGETS else None)
    found = st.extras.get(key)
    if found is None:
        found = st.extras[key] = _extra(extra, target_name)
    matches = list(found[0])
    target = None
    if target_name is not None:
        target = st.targets.get((target_name, key))
        if target is None:
            target = st.targets[(target_name, key)] = fast_record(
                Target, {"name": target_name, "goto": found[2], "options": dict(found[1]), "text": ""})
    values: dict[str, Any] = {
        "src": Provenance(st.file, ln),
        "raw": raw,
        "table": table.name,
        "chain": chain.name,
        "position": len(chain.rules) + 1,
        "source": source,
        "destination": destination,
        "in_iface": st.name(in_if) if in_if not in (None, "*") else None,
        "out_iface": st.name(out_if) if out_if not in (None, "*") else None,
        "protocol": st.name(prot) if prot not in ("all", "0") else None,
        "fragment": None if opt == "--" else opt == "-f",
        "matches": matches,
        "target": target,
        "packets": pkts,
        "bytes": byts,
    }
    return slim_record(IptRule, values)  # key-sharing dict: ~360 bytes less per rule


def _rest_after(line: str, words: list[str], count: int) -> str:
    """The text of `line` after its first `count` whitespace-separated words, spacing kept."""
    if count >= len(words):
        return ""
    parts = line.split(None, count)
    return parts[count] if len(parts) > count else ""


def _addr(text: str) -> AddrMatch | None:
    negated = text.startswith("!")
    net_text = text[1:] if negated else text
    if net_text in _ANY_NET and not negated:
        return None
    net: IPv4Network | IPv6Network = parse_net(net_text)
    return fast_record(AddrMatch, {"net": net, "negated": negated})


def _name(text: str) -> NameMatch:
    negated = text.startswith("!")
    return fast_record(NameMatch, {"value": text[1:] if negated else text, "negated": negated})


def _option(name: str, values: list[str], negated: bool = False) -> MatchOption:
    return fast_record(MatchOption, {"name": name, "values": values, "negated": negated})


def _module(name: str, options: list[MatchOption], text: str = "") -> MatchModule:
    allowed = KNOWN_MODULES.get(name)
    known = allowed is not None and all(o.name in allowed for o in options)
    return fast_record(MatchModule, {"module": name, "options": options, "known": known,
                                     "text": "" if known else text})


def _extra(text: str, target_name: str | None) -> tuple[list[MatchModule], dict[str, str], bool]:
    """Map the trailing match/target text of a row onto MatchModules, the target's options and goto."""
    matches: list[MatchModule] = []
    for comment in _COMMENT.findall(text):
        matches.append(_module("comment", [_option("comment", [comment])]))
    if matches:
        text = _COMMENT.sub(" ", text)
    words = text.split()
    options: dict[str, str] = {}
    goto = False
    unknown: list[str] = []
    n = len(words)
    i = 0

    def flush() -> None:
        if unknown:
            matches.append(fast_record(MatchModule, {"module": "?", "options": [], "known": False,
                                                     "text": " ".join(unknown)}))
            unknown.clear()

    while i < n:
        w = words[i]
        nxt = words[i + 1] if i + 1 < n else ""
        neg = False
        if w == "!" and nxt:
            neg, i = True, i + 1
            w, nxt = words[i], words[i + 1] if i + 1 < n else ""
        start = i
        mod: MatchModule | None = None
        if w in ("tcp", "udp", "sctp") and i + 1 < n and _proto_word(nxt):
            opts = []
            i += 1
            while i < n and _proto_word(words[i]):
                port = _PORT.match(words[i])
                if port is not None:
                    kind, bang, value = port.groups()
                    opts.append(_option(kind[0] + "port", [value], bang == "!"))
                else:
                    key, _, value = words[i].partition(":" if words[i].startswith("flags") else "=")
                    opts.append(_option("tcp-flags" if key == "flags" else "tcp-option", [value]))
                i += 1
            mod = _module(w, opts, " ".join(words[start:i]))
        elif w in ("tcp", "udp", "sctp") and not neg:
            mod = _module(w, [])  # `-m tcp` without options prints the bare protocol name
            i += 1
        elif w == "multiport" and nxt in ("dports", "sports", "ports") and i + 2 < n:
            value = words[i + 2]
            bang = value.startswith("!")
            mod = _module("multiport", [_option(nxt, [value.lstrip("!")], neg or bang)])
            i += 3
        elif w in ("state", "ctstate", "ctstatus") and nxt:
            bang = nxt.startswith("!")
            mod = _module("state" if w == "state" else "conntrack", [_option(w, [nxt.lstrip("!")], neg or bang)])
            i += 2
        elif w == "match-set" and i + 2 < n:
            mod = _module("set", [_option("match-set", [nxt, words[i + 2]], neg)])
            i += 3
        elif w == "ADDRTYPE" and nxt == "match":
            opts = []
            i += 2
            while i + 1 < n and words[i] in ("src-type", "dst-type", "limit-in", "limit-out"):
                value = words[i + 1]
                opts.append(_option(words[i], [value.lstrip("!")], value.startswith("!")))
                i += 2
            mod = _module("addrtype", opts, " ".join(words[start:i]))
        elif w == "statistic" and nxt == "mode" and i + 2 < n:
            opts = [_option("mode", [words[i + 2]])]
            i += 3
            while i + 1 < n and words[i] in ("probability", "every", "packet"):
                opts.append(_option(words[i], [words[i + 1]]))
                i += 2
            mod = _module("statistic", opts, " ".join(words[start:i]))
        elif w == "mark" and nxt == "match" and i + 2 < n:
            bang = words[i + 2] == "!"
            j = i + 3 if bang else i + 2
            if j < n:
                mod = _module("mark", [_option("mark", [words[j]], neg or bang)])
                i = j + 1
        elif w == "PHYSDEV" and nxt == "match":
            opts = []
            i += 2
            while i < n and words[i].lstrip("!").startswith("--physdev"):
                name = words[i].lstrip("!")[2:]
                if name in ("physdev-in", "physdev-out") and i + 1 < n:
                    opts.append(_option(name, [words[i + 1]], words[i].startswith("!")))
                    i += 2
                else:
                    opts.append(_option(name, [], words[i].startswith("!")))
                    i += 1
            mod = _module("physdev", opts, " ".join(words[start:i]))
        elif w == "icmptype" and nxt:
            mod = _module("icmp", [_option("icmp-type", [nxt.lstrip("!")], neg or nxt.startswith("!"))])
            i += 2
        elif w == "limit:" and nxt == "avg" and i + 2 < n:
            opts = [_option("limit", [words[i + 2]])]
            i += 3
            if i + 1 < n and words[i] == "burst":
                opts.append(_option("limit-burst", [words[i + 1]]))
                i += 2
            mod = _module("limit", opts, " ".join(words[start:i]))
        elif (after := _target_option(w, nxt, target_name, options, words, i)) is not None:
            i = after
            flush()
            continue
        elif w == "[goto]":
            goto = True
            i += 1
            flush()
            continue
        if mod is None:
            if neg:
                unknown.append("!")
            unknown.append(w)
            i = start + 1
            continue
        flush()
        matches.append(mod)
    flush()
    return matches, options, goto


def _proto_word(word: str) -> bool:
    return _PORT.match(word) is not None or word.startswith(("flags:", "option="))


def _target_option(w: str, nxt: str, target: str | None, options: dict[str, str], words: list[str],
                   i: int) -> int | None:
    """Read a target's list-format option at `words[i]` into `options`; the index after it, or None."""
    if target is None:
        return None
    if target == "REJECT" and w == "reject-with" and nxt:
        options["reject-with"] = nxt
        return i + 2
    if w.startswith("to:") and target in ("DNAT", "SNAT"):
        options["to-destination" if target == "DNAT" else "to-source"] = w[3:]
        return i + 1
    if target == "MARK" and w == "MARK" and nxt in ("or", "xor", "and", "set") and i + 2 < len(words):
        options[f"{nxt}-mark"] = words[i + 2]
        return i + 3
    if target in ("MASQUERADE", "SNAT", "DNAT") and w in ("random-fully", "random", "persistent"):
        options[w] = ""
        return i + 1
    if target == "MASQUERADE" and w == "masq" and nxt == "ports:" and i + 2 < len(words):
        options["to-ports"] = words[i + 2]
        return i + 3
    if target == "LOG" and w == "LOG":
        return i + 1
    if target == "LOG" and w in ("flags", "level") and nxt:
        options["log-level" if w == "level" else "log-flags"] = nxt
        return i + 2
    if target == "LOG" and w == "prefix" and nxt.startswith('"'):
        j = i + 1
        parts = []
        while j < len(words):
            parts.append(words[j])
            if words[j].endswith('"') and (len(parts) > 1 or len(words[j]) > 1):
                break
            j += 1
        options["log-prefix"] = " ".join(parts)[1:-1]
        return j + 1
    return None
