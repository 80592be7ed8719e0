"""The iptables list format (`iptables [-t T] -nvL`, `-vnxL`, `-nL`, `-L`, `--line-numbers`) -> one Ruleset.

The file is pre-split in Python: chain headers and table hints go through the TTP template
`templates/iptables_list.ttp`; rule rows (pkts bytes target prot opt in out source destination
+ match text) are read here, because a TTP pass over 100k rows is several times slower.

- `variant` is "list". The file is cut into tables at table hints (a `# Table: nat` / `Table: nat`
  line, a pasted prompt line such as `$ sudo iptables -t nat -vnL`, which also says "filter" when it
  has no `-t`) and where a built-in chain repeats. A table's name is its hint, else a `-t NAME` in the
  file name (sos: `iptables_-t_nat_-nvL`, first table only), else what its chains show (`guess_table`:
  built-in chains PREROUTING/POSTROUTING are never filter's; nat-, mangle- or raw-only targets), else
  "filter" (what `iptables -L` lists) with a note. A name taken twice becomes "unknown-2"... with a note.
- Counters: `-vnxL` exact; `-nvL` abbreviates with K/M/G/T (powers of 1000, as iptables prints),
  which become approximate integers (12K -> 12000). `-nL` has no counters (None). Without `-v` the
  in/out interfaces are not printed at all: every rule then carries an unknown match saying so.
- `--line-numbers`: the `num` column is checked against the rule's position and dropped.
- Names (`-L` without `-n`, see resolver_names.py): `anywhere`, the ICMP type names, `loopback/8`
  and well-known service names become numbers; a host name (`node2.example`, `_gateway`) becomes an
  unknown match ("-s node2.example"), never a guess.
- The match text is mapped onto the save format's MatchModule/Target structure where the shape is
  known (`udp dpt:8472` -> udp [--dport 8472], `/* c */` -> comment, `ctstate NEW` -> conntrack,
  `match-set S src` -> set, `ADDRTYPE match dst-type LOCAL` -> addrtype, `statistic mode random
  probability P`, `mark match X`, `PHYSDEV match --physdev-is-bridged`, `multiport dports`, `state`,
  `icmptype N`, `icmp NAME`, `limit: avg R burst B`); target text (`reject-with X`, `to:A:P`, `MARK
  or X`, `random-fully`, `[goto]`) goes to Target options. Anything else stays verbatim (known=False).
- A row that cannot stand alone (no target/prot/opt columns) right after a rule row is a terminal
  wrap: it is joined to the row above, with a note, when exactly one way of joining (with or
  without a space) reads cleanly; otherwise both lines are left unparsed.
- `expected` is the number of rule rows; the parsed rules must account for it.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from netsnap.bundle.paste import commands_in, scan
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
from netsnap.parsers import resolver_names
from netsnap.parsers.iptables_rule import KNOWN_MODULES, parse_net
from netsnap.parsers.iptables_save import split_lines
from netsnap.parsers.iptables_tables import ALL_TABLE_TARGETS, BUILTIN_CHAINS, table_for_chains
from netsnap.parsers.ttp_runner import run_template

SOURCE = "iptables_list"
_SUFFIX = {"K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5}
_OPT = frozenset({"--", "-f", "!f"})
_TABLE_IN_NAME = re.compile(r"(?:^|[_\s])-t[_\s]+([A-Za-z0-9]+)")
_COMMENT = re.compile(r"/\* (.*?) \*/")
_PORT = re.compile(r"^(spts?|dpts?):(!?)(\S+)$")
_ANY_NET = {"0.0.0.0/0", "::/0", "anywhere"}
_OPTION_TARGETS = frozenset({"REJECT", "DNAT", "SNAT", "MARK", "MASQUERADE", "LOG"})
_HOST_NAME = re.compile(r"(?=.*[A-Za-z_])[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:/\d{1,3})?")
_INTERFACES_UNKNOWN = "interfaces not shown (listed without -v): -i/-o unknown"


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


@dataclass
class _Group:
    """One table of the listing: its first line, the hint that named it (if any) and what it shows."""

    first: int
    hint: str | None = None
    hint_why: str = ""
    builtins: set[str] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    name: str = ""


def _groups(lines: list[str], file: str, commands: dict[int, Any]) -> tuple[list[_Group], dict[int, int], list[str]]:
    """Cut the listing into tables (see the module docstring); returns the groups, line -> group index
    for the lines that start one, and notes."""
    groups: list[_Group] = []
    starts: dict[int, int] = {}
    notes: list[str] = []
    current: _Group | None = None
    seen: set[str] = set()

    def start(ln: int, hint: str | None, why: str) -> _Group:
        group = _Group(first=ln, hint=hint, hint_why=why)
        starts[ln] = len(groups)
        groups.append(group)
        return group

    for ln, raw in enumerate(lines, 1):
        line = raw.strip()
        if ln in commands:
            cmd = commands[ln]
            current = start(ln, cmd.value("-t", "--table") or "filter", f"the prompt line `{cmd.line}`")
            seen = set()
            continue
        if line.startswith(("# Table:", "Table:")):
            current = start(ln, line.split(":", 1)[1].strip() or None, f"line {ln}")
            seen = set()
            continue
        if line.startswith("Chain "):
            parts = line.split(None, 2)
            chain = parts[1] if len(parts) > 1 else ""
            if current is None or (chain in BUILTIN_CHAINS and chain in seen):
                current = start(ln, None, "")
                seen = set()
            seen.add(chain)
            if chain in BUILTIN_CHAINS:
                current.builtins.add(chain)
            continue
        if current is not None and current.hint is None and line:
            words = line.split(None, 4)[:4]
            if not ALL_TABLE_TARGETS.isdisjoint(words):
                current.targets.update(ALL_TABLE_TARGETS.intersection(words))
    from_file = table_from_file(file)
    taken: dict[str, int] = {}
    for index, group in enumerate(groups):
        inferred, why = table_for_chains(group.builtins, group.targets)
        name: str | None = group.hint or (from_file if index == 0 else None)
        if name is not None and inferred is not None and inferred != name and group.builtins - {"INPUT", "OUTPUT"} \
                and not (name == "mangle" or (name == "nat" and inferred == "raw")):
            notes.append(f"line {group.first}: table {name} (from {group.hint_why or 'the file name'}) shows "
                         f"chains of {inferred}: {', '.join(sorted(group.builtins))}")
        if name is None:
            if inferred is not None:
                name = inferred
                notes.append(f"line {group.first}: table named {inferred} from {why} (no table hint)")
            elif index == 0:
                name = "filter"
                notes.append(f"line {group.first}: no table hint and nothing that tells: read as filter, "
                             "what iptables -L lists")
            else:
                name = f"unknown-{index + 1}"
                notes.append(f"line {group.first}: a second listing without a table hint: read as {name}")
        if name in taken:
            unknown = f"unknown-{len(taken) + 1}"
            notes.append(f"line {group.first}: table {name} already listed at line {groups[taken[name]].first}; "
                         f"this one is read as {unknown}")
            name = unknown
        taken[name] = index
        group.name = name
    return groups, starts, notes


def guess_table(text: str, file: str = "") -> str:
    """The name the first table of a listing gets (for the loose-file reader)."""
    lines = split_lines(text)
    groups, _, _ = _groups(lines, file, commands_in(lines))
    return groups[0].name if groups else "filter"


class _State:
    def __init__(self, file: str) -> None:
        self.file = file
        self.tables: dict[str, Table] = {}
        self.table_name = "filter"
        self.table: Table | None = None
        self.chain: Chain | None = None
        self.verbose: bool | None = None
        self.numbered = False
        self.unparsed: list[UnparsedLine] = []
        self.notes: list[str] = []
        self.expected = 0
        self.ipv6 = False
        self.unknown_interfaces = False
        # the last rule row: (line, raw text, its rule or None when it was left unparsed)
        self.last_row: tuple[int, str, IptRule | None] | None = None
        # records parsed from identical text are shared between rows (the parsed model is read-only)
        self.addrs: dict[str, tuple[AddrMatch | None, MatchModule | None]] = {}
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
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a bug must not lose the file: keep every line, say why
        lines = split_lines(text)
        return Parsed[Ruleset](
            source=SOURCE, file=file, items=[Ruleset(variant="list", file=file)],
            unparsed=[UnparsedLine(line=i, text=ln) for i, ln in enumerate(lines, 1) if ln.strip()],
            notes=[f"iptables list parser failed: {type(exc).__name__}: {exc}"])
    finally:
        if gc_was_enabled:
            gc.enable()


class _RowError(ValueError):
    """A rule row whose columns do not fit (the message says how)."""


def _parse(text: str, file: str) -> Parsed[Ruleset]:
    lines = split_lines(text)
    st = _State(file)
    commands, noise = scan(lines)
    groups, starts, group_notes = _groups(lines, file, commands)
    st.notes.extend(group_notes)
    # pass 1: which lines are headers (for TTP), which are rows
    header_lines: list[int] = []
    for ln, raw in enumerate(lines, 1):
        s = raw.lstrip()
        if s.startswith(("Chain ", "# Table:", "Table:")):
            header_lines.append(ln)
    headers = _headers(lines, header_lines)
    for ln, raw in enumerate(lines, 1):
        line = raw.strip()
        if ln in starts:
            st.table_name = groups[starts[ln]].name
            st.table = None
            if ln in commands or line.startswith(("# Table:", "Table:")):
                st.chain = None
                st.last_row = None
                continue
        if not line or ln in commands or ln in noise:
            continue
        if ln in headers:
            _header(st, ln, raw, headers[ln])
            st.last_row = None
            continue
        if line.startswith(("Chain ", "# Table:", "Table:")):
            st.bad(ln, raw, "malformed chain header")
            st.chain = None  # the rows that follow belong to a chain we cannot name
            st.last_row = None
            continue
        words = line.split()
        if words[0] in ("pkts", "target", "num"):
            if st.chain is None:
                st.bad(ln, raw, "column header outside a chain")
            else:
                st.numbered = words[0] == "num"
                st.verbose = "pkts" in words[:2]
                if not st.verbose:
                    st.unknown_interfaces = True
            st.last_row = None
            continue
        if line.startswith("#"):
            continue  # a comment (e.g. added by a collector): understood, nothing to keep
        if st.chain is None:
            st.unparsed.append(UnparsedLine(line=ln, text=raw))
            continue
        st.expected += 1
        try:
            rule = _row(st, ln, raw, words, line)
        except _RowError as exc:
            if st.last_row is not None:  # a row without its columns: the wrapped tail of the one above?
                st.expected -= 1
                _join(st, ln, raw)
                continue
            st.bad(ln, raw, str(exc))
            st.last_row = (ln, raw, None)
            continue
        except ValueError as exc:
            st.bad(ln, raw, f"unreadable rule row: {exc}")
            st.last_row = (ln, raw, None)
            continue
        st.chain.rules.append(rule)
        st.last_row = (ln, raw, rule)
    parsed = sum(len(c.rules) for t in st.tables.values() for c in t.chains.values())
    if not st.tables and any(u.text.startswith(("*", ":", "-A ")) for u in st.unparsed[:50]):
        st.notes.append("this looks like the save format (iptables-save), not iptables -L: read it as iptables_save")
    if st.unknown_interfaces:
        st.notes.append("listed without -v: the in/out interfaces of the rules are not shown, so every rule "
                        "carries an unknown match for them")
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
        st.table = None
        st.chain = None
        return
    name = str(rec.get("chain_name", ""))
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


def _verbose(st: _State, words: list[str]) -> bool:
    if st.verbose is not None:
        return st.verbose
    first = 1 if st.numbered else 0
    return len(words) > first + 1 and counter(words[first]) is not None and counter(words[first + 1]) is not None


def _unknown_words(rule: IptRule) -> int:
    return sum(len(m.text.split()) for m in rule.matches if not m.known and m.text != _INTERFACES_UNKNOWN)


def _join(st: _State, ln: int, raw: str) -> None:
    """Join a wrapped row's tail `raw` to the row above (see the module docstring)."""
    assert st.last_row is not None and st.chain is not None
    prev_ln, prev_raw, prev_rule = st.last_row
    candidates: list[tuple[str, IptRule]] = []
    for joined in dict.fromkeys((prev_raw + raw, prev_raw.rstrip() + " " + raw.strip())):
        if prev_rule is not None:
            st.chain.rules.pop()
        try:
            rule = _row(st, prev_ln, joined, joined.split(), joined.strip())
            candidates.append((joined, rule))
        except ValueError:
            pass
        if prev_rule is not None:
            st.chain.rules.append(prev_rule)
    best = min((_unknown_words(r) for _, r in candidates), default=None)
    clean = [(j, r) for j, r in candidates if _unknown_words(r) == best]
    if len(clean) > 1 and _same_rule(clean[0][1], clean[1][1]):
        clean = clean[:1]
    if len(clean) != 1 or (prev_rule is not None and best is not None and best > _unknown_words(prev_rule)):
        st.expected += 1
        st.bad(ln, raw, f"not a rule row (joined to line {prev_ln} as a wrapped tail it does not read either)")
        st.last_row = None
        return
    joined, rule = clean[0]
    if prev_rule is not None:
        st.chain.rules[st.chain.rules.index(prev_rule)] = rule
    else:
        st.unparsed = [u for u in st.unparsed if u.line != prev_ln]
        st.notes = [n for n in st.notes if not n.startswith(f"line {prev_ln}: ")]
        st.chain.rules.append(rule)
    st.notes.append(f"line {ln}: the wrapped tail of line {prev_ln}; joined to it")
    st.last_row = (prev_ln, joined, rule)


def _same_rule(a: IptRule, b: IptRule) -> bool:
    """Equal but for comments and raw text (a wrap inside a comment changes nothing that matters)."""
    def strip(r: IptRule) -> dict[str, Any]:
        d = r.model_dump(exclude={"raw"})
        d["matches"] = [m for m in d["matches"] if m["module"] != "comment"]
        return d
    return strip(a) == strip(b)


def _row(st: _State, ln: int, raw: str, words: list[str], line: str) -> IptRule:
    """One rule row; raises `_RowError` (the columns do not fit) or ValueError (a value does not read)."""
    verbose = st.verbose
    if verbose is None:  # no column header seen: guess from the shape
        verbose = _verbose(st, words)
    pkts = byts = None
    i = 0
    if st.numbered:
        if not words[0].isdigit():
            raise _RowError("rule row without its line number")
        assert st.chain is not None
        if int(words[0]) != len(st.chain.rules) + 1:
            st.notes.append(f"line {ln}: line number {words[0]} but rule {len(st.chain.rules) + 1} of its chain")
        i = 1
    if verbose:
        pkts = counter(words[i]) if len(words) > i else None
        byts = counter(words[i + 1]) if len(words) > i + 1 else None
        if pkts is None or byts is None:
            raise _RowError("rule row without counters")
        i += 2
    # target may be empty: then the opt column comes one earlier
    if len(words) > i + 2 and words[i + 2] in _OPT:
        target_name: str | None = words[i]
        i += 1
    elif len(words) > i + 1 and words[i + 1] in _OPT:
        target_name = None
    else:
        raise _RowError("rule row columns not recognised")
    prot, opt = words[i], words[i + 1]
    i += 2
    in_if = out_if = None
    if verbose:
        if len(words) < i + 4:
            raise _RowError("rule row too short")
        in_if, out_if = words[i], words[i + 1]
        i += 2
    if len(words) < i + 2:
        raise _RowError("rule row too short")
    src, dst = words[i], words[i + 1]
    i += 2
    extra = _rest_after(line, words, i)
    table = st.current_table(ln)
    chain = st.chain
    assert chain is not None
    addrs = st.addrs
    source, src_unknown = addrs[src] if src in addrs else addrs.setdefault(src, _addr(src, "-s"))
    destination, dst_unknown = addrs[dst] if dst in addrs else addrs.setdefault(dst, _addr(dst, "-d"))
    if not st.ipv6 and any(a is not None and isinstance(a.net, IPv6Network) for a in (source, destination)):
        st.ipv6 = True
    # target options are read only for a few targets: for the others the target name does not
    # change how the text reads, so rows that differ only in the target share the parsed text
    key = (extra, target_name if target_name in _OPTION_TARGETS else None)
    found = st.extras.get(key)
    if found is None:
        found = st.extras[key] = _extra(extra, target_name)
    matches = list(found[0])
    if src_unknown is not None or dst_unknown is not None:
        matches[:0] = [m for m in (src_unknown, dst_unknown) if m is not None]
    if not verbose:
        matches.insert(0, _UNKNOWN_IFACES)
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


def _addr(text: str, flag: str) -> tuple[AddrMatch | None, MatchModule | None]:
    """A source/destination column: (its network, or None for any; an unknown match for a host name)."""
    negated = text.startswith("!")
    net_text = text[1:] if negated else text
    if net_text in _ANY_NET and not negated:
        return None, None
    try:
        net: IPv4Network | IPv6Network = parse_net(net_text)
    except ValueError:
        named = resolver_names.network(net_text)
        if named is None:
            if _HOST_NAME.fullmatch(net_text) is None:
                raise

            bang = "! " if negated else ""
            return None, fast_record(MatchModule, {
                "module": "?", "options": [], "known": False,
                "text": f"{bang}{flag} {net_text} (a name: its address is not in the listing)"})
        net = parse_net(named)
    return fast_record(AddrMatch, {"net": net, "negated": negated}), None


_UNKNOWN_IFACES = fast_record(MatchModule, {"module": "?", "options": [], "known": False, "text": _INTERFACES_UNKNOWN})


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
                    number = resolver_names.port(value)
                    # a service name not in the shipped table stays as written: the module is then unknown
                    opts.append(_option(kind[0] + "port" if number is not None else f"{kind[0]}port-name",
                                        [number or value], bang == "!"))
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
            numbers = resolver_names.ports(value.lstrip("!"))
            mod = _module("multiport", [_option(nxt if numbers is not None else f"{nxt}-names",
                                                [numbers or value.lstrip("!")], neg or bang)],
                          " ".join(words[i:i + 3]))
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
            value = nxt.lstrip("!")
            if i + 3 < n + 1 and words[i + 2:i + 3] == ["code"] and i + 3 < n:
                value = f"{value}/{words[i + 3]}"
                i += 2
            mod = _module("icmp", [_option("icmp-type", [value], neg or nxt.startswith("!"))])
            i += 2
        elif w == "icmp" and nxt and (nxt.lstrip("!") in resolver_names.ICMP_TYPES or nxt.lstrip("!") == "any"):
            name = nxt.lstrip("!")
            value = "any" if name == "any" else resolver_names.icmp_type(name) or name
            mod = _module("icmp", [_option("icmp-type", [value], neg or nxt.startswith("!"))])
            i += 2
        elif w == "icmp" and nxt == "type" and i + 2 < n:
            value = words[i + 2]
            i += 3
            if i + 1 < n and words[i] == "code":
                value = f"{value}/{words[i + 1]}"
                i += 2
            mod = _module("icmp", [_option("icmp-type", [value], neg)])
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
