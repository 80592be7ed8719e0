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
  and the `:` (and `-N`/`-P`) chain-line count is checked against the chains found.
- `iptables -S` / `iptables -t nat -S` (`-P CHAIN POLICY`, `-N CHAIN`, `-A ...`, no `*table`) and
  headerless fragments (`iptables-save | grep X`, `-c` lines without their table): the table is the
  pasted prompt line's (`-t`, else filter for `-S`), else what the fragment's chains and targets show
  (iptables_tables.py), else "unknown-N" with a note: rules are never filed under a guessed table.
- A pasted prompt line (`$ sudo iptables -t nat -S`) and markdown fences are understood; they are only
  looked at on the lines that are neither rules nor chains, so the fast path does not pay for them.
- A line that cannot stand alone (not `-A`/`-P`/`-N`/`:`/`*`/`#`/`COMMIT`) right after a rule is a
  terminal wrap (`-j KUBE-POSTROUTI` + `NG`): it is joined to the rule, with a note, when exactly one
  way of joining (with or without a space) gives a rule with no unknown words that jumps to a declared
  chain or a standard target; otherwise the line stays unparsed. Rules that jump to a chain the dump
  neither declares nor lists are noted.
- The header's date may hold runs of spaces (`Mon Dec  7`); they do not hide its version and backend.
"""

from __future__ import annotations

import gc
import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from netsnap.bundle.paste import Command, is_bare_prompt, is_fence, prompt_command
from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.iptables import Backend, Chain, IptRule, Ruleset, Table, Target
from netsnap.model.unchecked import fast_record, key_sharing_dict
from netsnap.parsers.iptables_rule import SURE_SPEC, SpecReader
from netsnap.parsers.iptables_tables import ALL_TABLE_TARGETS, BUILTIN_CHAINS, table_for_chains
from netsnap.parsers.ttp_runner import run_template

SOURCE = "iptables_save"
TABLES = ("filter", "nat", "mangle", "raw", "security")
# targets iptables itself provides (a jump to any other name must be a chain of the dump)
STANDARD_TARGETS = frozenset({
    "ACCEPT", "DROP", "RETURN", "QUEUE", "NFQUEUE", "REJECT", "LOG", "NFLOG", "ULOG", "DNAT", "SNAT", "MASQUERADE",
    "REDIRECT", "NETMAP", "MARK", "CONNMARK", "CT", "NOTRACK", "TOS", "TTL", "HL", "TCPMSS", "TCPOPTSTRIP",
    "CHECKSUM", "CLASSIFY", "DSCP", "ECN", "HMARK", "IDLETIMER", "LED", "RATEEST", "SECMARK", "CONNSECMARK", "SET",
    "SYNPROXY", "TEE", "TPROXY", "TRACE", "AUDIT", "CLUSTERIP", "MIRROR",
})


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


def normalised(text: str) -> str:
    """The text as ttp_runner numbers its lines: CRLF/CR normalised, NULs removed (the same object when
    there is nothing to change)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text


def split_lines(text: str) -> list[str]:
    """Lines as ttp_runner numbers them (see `normalised`)."""
    return normalised(text).split("\n")


def _counters(text: str) -> tuple[int, int] | None:
    """`[12:3456]` -> (12, 3456); None when it is not a counter pair."""
    if len(text) < 5 or text[0] != "[" or text[-1] != "]":
        return None
    pkts, sep, byts = text[1:-1].partition(":")
    if not sep or not pkts.isdigit() or not byts.isdigit():
        return None
    return int(pkts), int(byts)


class _Eager(Exception):
    """A lazy parse met a line it leaves to the eager one (a wrap, a fragment, `iptables -S`): start again."""


class _Dump:
    """What the pending rules of one dump share: its (normalised) text, where each line starts, the file
    name and the spec reader (its segment cache keeps equal matches shared, as in an eager parse)."""

    __slots__ = ("file", "reader", "starts", "text")

    def __init__(self, file: str, reader: SpecReader) -> None:
        self.file = file
        self.reader = reader
        self.text = ""
        self.starts = array("q")

    def line(self, ln: int) -> str:
        return self.text[self.starts[ln - 1]:self.starts[ln] - 1]


class _LazyRules:
    """The rules of one chain (model.iptables.PendingRules): their line numbers, read when the chain's
    `rules` are first asked for; a line not sure to read (`SURE_SPEC`) was read at once and its rule is
    kept in `read`. About 8 bytes a rule and 150 a chain, against about 2 KB a built rule."""

    __slots__ = ("at", "chain", "dump", "lines", "read", "table")

    def __init__(self, dump: _Dump, table: str, chain: str, at: int) -> None:
        self.dump = dump
        self.table = table
        self.chain = chain
        self.at = at  # the chain's own line
        self.lines = array("I")
        self.read: dict[int, IptRule] | None = None

    def declared_at(self) -> Provenance:
        return Provenance(self.dump.file, self.at)

    def __len__(self) -> int:
        return len(self.lines)

    def keep(self, rule: IptRule) -> None:
        self.lines.append(rule.src.line)
        if self.read is None:
            self.read = {}
        self.read[rule.src.line] = rule

    def raws(self) -> list[str]:
        read, line = self.read or {}, self.dump.line
        return [rule.raw if (rule := read.get(ln)) is not None else line(ln) for ln in self.lines]

    def may_mention(self, word: str) -> bool:
        if not self.lines:
            return False
        if self.read is not None and any(word in r.raw or "\\" in r.raw for r in self.read.values()):
            return True
        # the lines from the chain's first rule to its last hold every rule's text (and maybe more)
        text, starts = self.dump.text, self.dump.starts
        first, last = min(self.lines), max(self.lines)
        start, end = starts[first - 1], starts[last] - 1
        return text.find(word, start, end) >= 0 or text.find("\\", start, end) >= 0

    def build(self) -> list[IptRule]:
        out: list[IptRule] = []
        read, dump = self.read or {}, self.dump
        for ln in self.lines:
            rule = read.get(ln)
            if rule is None:
                raw = dump.line(ln)
                counters, body = _split_counters(raw.strip())
                head, matches, target = dump.reader.parts(body.split(None, 2)[2])
                rule = _make_rule(dump.file, self.table, self.chain, ln, raw, counters or head[7], head, matches,
                                  target, len(out) + 1)
            out.append(rule)
        return out  # the holder stays as it is: a copy of the chain (model_copy) may build from it too


class _State:
    """Mutable parse state of one file."""

    def __init__(self, file: str, lazy: bool) -> None:
        self.file = file
        self.lazy = lazy  # chains keep their sure lines unread (_LazyRules); rare lines raise _Eager
        self.lazy_targets: set[str] = set()  # the targets of the lines left unread
        self.tables: dict[str, Table] = {}
        self.table: Table | None = None
        self.unparsed: list[UnparsedLine] = []
        self.notes: list[str] = []
        self.expected = 0
        self.chain_lines = 0
        self.implicit_chains: list[str] = []
        self.reader = SpecReader()
        self.dump = _Dump(file, self.reader)
        self.lines: list[str] = []
        self.declared: set[str] = set()  # chains the dump declares (`:NAME`, `-N NAME`, `-P NAME`)
        self.declares_all = False  # a whole table was dumped (`:` chain lines, `-P` policies)
        self.command: Command | None = None  # the pasted prompt line above, if any
        self.fragment = False  # rules with no table header: table chosen by `_headerless`
        self.unknown_tables = 0
        self.uncommitted: set[str] = set()  # tables of `iptables -S` output and fragments: no COMMIT to expect
        self.last_rule: _Last | None = None
        self.last_ln = 0  # the line and chain of the last rule read on the fast path
        self.last_chain: Chain | None = None
        self.width: int | None = None  # the longest line: the terminal width of a wrapped paste

    def bad(self, ln: int, line: str, why: str) -> None:
        self.unparsed.append(UnparsedLine(line=ln, text=line))
        self.notes.append(f"line {ln}: {why}")


def parse(text: str, file: str) -> Parsed[Ruleset]:
    """Parse one save-format dump into exactly one Ruleset (never raises)."""
    variant = variant_for(file)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # ~10 records per rule and no cycles: cyclic GC passes only cost time (measured 2x)
    try:
        try:
            return _parse(text, file, variant, lazy=True)
        except _Eager:
            return _parse(text, file, variant, lazy=False)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
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


def _parse(text: str, file: str, variant: str, lazy: bool) -> Parsed[Ruleset]:
    text = normalised(text)
    st = _State(file, lazy)
    if lazy:  # the lines a chunk at a time: a lazy parse keeps none of them (only where they start)
        st.dump.text = text
        lines: Iterable[str] = _chunked(text, st.dump.starts)
    else:
        lines = st.lines = text.split("\n")
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
            if st.table is not None and st.table.name not in st.uncommitted:
                st.notes.append(f"line {ln}: table {st.table.name} has no COMMIT before *{name}")
            st.table = st.tables.get(name) or Table(name=name, src=Provenance(file=file, line=ln))
            st.tables[name] = st.table
        elif line == "COMMIT":
            if st.table is None:
                st.bad(ln, raw, "COMMIT outside a table")
            st.table = None
        elif head == "#":
            if not _prompt(st, ln, raw):
                comments.append((ln, line))
        elif comments and comments[-1][0] == ln - 1 and not _stands_alone(raw) and not prompt_command(raw):
            comments[-1] = (ln, comments[-1][1] + raw)  # a wrapped comment (the header's date): its tail
            st.notes.append(f"line {ln}: the wrapped tail of line {ln - 1}; joined to it")
        elif not _prompt(st, ln, raw) and not is_fence(raw) and not is_bare_prompt(raw) and not _wrapped(st, ln, raw):
            st.unparsed.append(UnparsedLine(line=ln, text=raw))
    family_v6, backend, version, warnings = _header(st, comments)
    if not st.tables and any(u.text.startswith("Chain ") for u in st.unparsed[:50]):
        st.notes.append("this looks like the list format (iptables -L), not iptables-save: read it as iptables_list")
    if st.table is not None and st.table.name not in st.uncommitted:
        st.notes.append(f"table {st.table.name} has no COMMIT (truncated dump?)")
    rules = sum(c.rule_count() for t in st.tables.values() for c in t.chains.values())
    if rules != st.expected:
        st.notes.append(f"{st.expected} -A lines but {rules} rules parsed")
    chains = sum(len(t.chains) for t in st.tables.values()) - len(st.implicit_chains)
    if chains != st.chain_lines:
        st.notes.append(f"{st.chain_lines} chain lines but {chains} chains parsed")
    if st.implicit_chains:
        st.notes.append("rules for undeclared chains: " + ", ".join(sorted(set(st.implicit_chains))[:20]))
    if st.declares_all:
        names = {c for t in st.tables.values() for c in t.chains}
        missing = sorted((st.reader.target_names() | st.lazy_targets) - st.declared - STANDARD_TARGETS - names)
        if missing:  # rare: check against the rules kept (the reader also saw the halves of wrapped lines)
            jumps = {r.target.name for t in st.tables.values() for c in t.chains.values() for r in c.rules
                     if r.target and r.target.name in missing}
            missing = [m for m in missing if m in jumps]
        if missing:
            st.notes.append("rules jump to chains the dump does not hold: " + ", ".join(missing[:20]))
    family = "ipv6" if (family_v6 or variant == "ip6tables" or st.reader.saw_ipv6) else "ipv4"
    ruleset = Ruleset(variant=variant, family=family, backend=backend, version=version, warnings=warnings, file=file)
    ruleset.tables = st.tables  # assigned after validation: the tables were built from checked values
    st.unparsed.sort(key=lambda u: u.line)
    return Parsed[Ruleset](source=SOURCE, file=file, items=[ruleset], unparsed=st.unparsed,
                           expected=st.expected, notes=st.notes)


def _chunked(text: str, starts: array[int], size: int = 1 << 20) -> Iterator[str]:
    """`text.split("\n")`, made a chunk of about `size` characters at a time; appends to `starts` where
    each line begins, and at the end the length of the text + 1 (so line N is `starts[N-1]:starts[N]-1`)."""
    pos, end_of_text = 0, len(text)
    while pos <= end_of_text:
        end = text.find("\n", pos + size)
        if end < 0:
            end = end_of_text
        chunk = text[pos:end].split("\n")
        starts.extend(accumulate(map((1).__add__, map(len, chunk[:-1])), initial=pos))
        yield from chunk
        pos = end + 1
    starts.append(end_of_text + 1)


def _header(st: _State, comments: list[tuple[int, str]]) -> tuple[bool, Backend, str | None, list[str]]:
    """Read the `#` lines with the TTP template: (ip6tables header?, backend, version, warnings)."""
    backend: Backend = "unknown"
    version: str | None = None
    warnings: list[str] = []
    ipv6 = False
    if not comments:
        return ipv6, backend, version, warnings
    # runs of spaces (the header's date on days 1-9: `Mon Dec  7`) are one space for the template
    records, _unmatched, _ = run_template("iptables_save", "\n".join(" ".join(c.split()) for _, c in comments),
                                          "comments")
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
    parts = line[1:].split()
    if len(parts) < 2 or len(parts) > 3:
        if not _wrapped(st, ln, raw):  # `-j DNAT --to-destination 10.0.0.1` + `:8080`?
            st.chain_lines += 1
            st.bad(ln, raw, "malformed chain line")
        return
    table = st.table or _headerless(st, ln)  # a fragment (`iptables-save | grep X`)
    st.chain_lines += 1
    st.last_rule = None
    st.last_chain = None
    name = sys.intern(parts[0])  # shared with the targets that jump here (SpecReader interns them)
    st.declared.add(name)
    st.declares_all = st.declares_all or not st.fragment
    policy = parts[1] if len(parts) > 1 and parts[1] != "-" else None
    counters = _counters(parts[2]) if len(parts) > 2 else None
    if len(parts) > 2 and counters is None:
        st.bad(ln, raw, "malformed chain counters")
        return
    old = table.chains.get(name)
    if st.lazy:  # src, rules and the None values are served by Chain.__getattr__ until the rules are built
        if old is not None:
            raise _Eager
        lazy: dict[str, Any] = {"name": name, "_pending": _LazyRules(st.dump, table.name, name, ln)}
        if policy is not None:
            lazy["policy"] = policy
        if counters is not None:
            lazy["packets"], lazy["bytes"] = counters
        table.chains[name] = fast_record(Chain, lazy)
        return
    chain = fast_record(Chain, {"name": name, "policy": policy, "packets": counters[0] if counters else None,
                                "bytes": counters[1] if counters else None, "rules": [],
                                "src": Provenance(st.file, ln)})
    if old is not None:
        chain.rules = old.rules
        if name in st.implicit_chains:
            st.implicit_chains.remove(name)
    table.chains[name] = chain


def _split_counters(line: str) -> tuple[tuple[int, int] | None, str]:
    """(`[p:b]` counters or None, the rest) of a rule line; ValueError for a malformed counter pair."""
    if line[:1] != "[":
        return None, line
    end = line.find("]")
    counters = _counters(line[: end + 1]) if end > 0 else None
    if counters is None:
        raise ValueError("malformed rule counters")
    return counters, line[end + 1:].lstrip()


def _rule(st: _State, ln: int, raw: str, line: str) -> None:
    """`[p:b] -A CHAIN spec` (counters optional)."""
    try:
        counters, body = _split_counters(line)
    except ValueError:
        st.bad(ln, raw, "malformed rule counters")
        return
    if not body.startswith(("-A ", "-A\t", "--append ")):
        if counters is None and body.startswith(("-P ", "-N ")) and _policy_or_new(st, ln, raw, body):
            return
        if not _wrapped(st, ln, raw):
            st.bad(ln, raw, "not an -A rule line")
        return
    st.expected += 1
    table = st.table
    if table is None:
        table = _headerless(st, ln)
    words = body.split(None, 2)
    if len(words) < 2:
        st.bad(ln, raw, "rule without a chain")
        return
    chain_name = words[1]
    chain = table.chains.get(chain_name)
    if chain is None:
        if st.lazy:
            raise _Eager
        chain = Chain(name=chain_name, src=Provenance(file=st.file, line=ln))
        table.chains[chain_name] = chain
        st.implicit_chains.append(chain_name)
    if st.lazy:
        pending: _LazyRules = chain.__dict__["_pending"]
        sure = SURE_SPEC.fullmatch(words[2]) if len(words) > 2 else None
        if sure is not None:  # read when the chain is first asked for its rules
            pending.lines.append(ln)
            st.lazy_targets.add(sure.group("target"))
            return
    try:
        head, matches, target = st.reader.parts(words[2]) if len(words) > 2 else (_NO_HEAD, [], None)
    except ValueError as exc:
        st.bad(ln, raw, f"unreadable rule: {exc}")
        st.last_rule = _Last(ln, raw, raw, [ln], None, chain)
        return
    if st.lazy:
        pending.keep(_make_rule(st.file, table.name, chain.name, ln, raw, counters or head[7], head, matches, target,
                                len(pending) + 1))
        return
    chain.rules.append(_make_rule(st.file, table.name, chain.name, ln, raw, counters or head[7], head, matches,
                                  target, len(chain.rules) + 1))
    # what `_wrapped` needs to join a tail to this rule, without building it for every rule
    st.last_rule = None
    st.last_ln = ln
    st.last_chain = chain


def _make_rule(file: str, table: str, chain: str, ln: int, raw: str, counters: tuple[int, int] | None,
               head: tuple[Any, ...], matches: list[Any], target: Target | None, position: int) -> IptRule:
    values = _RULE_KEYS.copy()  # a key-sharing dict: ~360 bytes less per rule than a dict literal
    values["src"] = Provenance(file, ln)
    values["raw"] = raw
    values["table"] = table
    values["chain"] = chain  # one string per chain, not one per rule
    values["position"] = position
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
    return fast_record(IptRule, values)


@dataclass
class _Last:
    """The last `-A` line (and the wrapped tails joined to it): its first line and raw text, the joined
    text, every line it spans, its rule (None when it did not read) and chain."""

    first: int
    raw: str
    text: str
    lines: list[int]
    rule: IptRule | None
    chain: Chain


_RULE_KEYS = key_sharing_dict(IptRule)
# `-A CHAIN` with nothing after it: matches everything, no target
_NO_HEAD: tuple[Any, ...] = (None, None, None, None, None, None, (), None)


def _prompt(st: _State, ln: int, raw: str) -> bool:
    """A pasted prompt line: remember its command; `iptables -S` starts its table (filter without -t)."""
    cmd = prompt_command(raw)
    if cmd is None:
        return False
    st.command = cmd
    st.table = None
    st.last_rule = None
    st.last_chain = None
    if cmd.has("-S", "--list-rules"):
        name = cmd.value("-t", "--table") or "filter"
        st.table = st.tables.get(name) or Table(name=name, src=Provenance(file=st.file, line=ln))
        st.tables[name] = st.table
        st.uncommitted.add(name)
    elif cmd.piped:
        st.notes.append(f"line {ln}: output of `{cmd.line}`: a fragment, chains and rules may be missing")
    return True


def _policy_or_new(st: _State, ln: int, raw: str, body: str) -> bool:
    """`-P CHAIN POLICY` / `-N CHAIN` (iptables -S): a chain of the current (or the headerless) table."""
    if st.lazy:
        raise _Eager
    parts = body.split()
    if (parts[0] == "-P" and len(parts) != 3) or (parts[0] == "-N" and len(parts) != 2):
        return False
    table = st.table or _headerless(st, ln)
    st.chain_lines += 1
    st.last_rule = None
    st.last_chain = None
    name = sys.intern(parts[1])
    st.declared.add(name)
    st.declares_all = st.declares_all or parts[0] == "-P"
    old = table.chains.get(name)
    chain = fast_record(Chain, {"name": name, "policy": parts[2] if parts[0] == "-P" else None, "packets": None,
                                "bytes": None, "rules": old.rules if old else [], "src": Provenance(st.file, ln)})
    table.chains[name] = chain
    return True


def _headerless(st: _State, ln: int) -> Table:
    """The table for rules with no `*table` above them (a fragment): named from the chains and targets of
    the lines up to the next table, prompt or COMMIT, else "unknown-N"."""
    if st.lazy:
        raise _Eager
    builtins: set[str] = set()
    targets: set[str] = set()
    listing = False  # `-P`/`-N` lines: the output of `iptables -S`, which lists one table
    for raw in st.lines[ln - 1:]:
        line = raw.strip()
        if line.startswith(("*", "COMMIT")) or prompt_command(raw) is not None:
            break
        words = line.split()
        if words and words[0].startswith("["):
            words = words[1:]
        listing = listing or (len(words) > 1 and words[0] in ("-P", "-N"))
        if len(words) > 1 and words[0] in ("-A", "-P", "-N", "--append") and words[1] in BUILTIN_CHAINS:
            builtins.add(words[1])
        elif line.startswith(":") and line[1:].split(" ", 1)[0] in BUILTIN_CHAINS:
            builtins.add(line[1:].split(" ", 1)[0])
        for i, word in enumerate(words[:-1]):
            if word in ("-j", "--jump") and words[i + 1] in ALL_TABLE_TARGETS:
                targets.add(words[i + 1])
    name, why = table_for_chains(builtins, targets)
    if name is None or name in st.tables or not listing:
        # lines grepped out of a whole dump may come from several tables: the chains only suggest one
        st.unknown_tables += 1
        hint = "" if name is None else (f"; {name} is already in the dump" if name in st.tables else
                                        f"; {why} suggest {name}, but a fragment may mix tables")
        name = f"unknown-{st.unknown_tables}"
        st.notes.append(f"line {ln}: rules without their table (no `*table` line{hint}): read as table {name}")
    else:
        st.notes.append(f"line {ln}: rules without their table (no `*table` line): table {name} from {why}")
    st.fragment = True
    st.uncommitted.add(name)
    st.table = Table(name=name, src=Provenance(file=st.file, line=ln))
    st.tables[name] = st.table
    return st.table


def _wrapped(st: _State, ln: int, raw: str) -> bool:
    """Join `raw` to the `-A` line above when it is that line's terminal-wrapped tail (see the module
    docstring); True when the line was taken (joined, or kept pending as the middle of a longer wrap)."""
    if st.lazy:
        raise _Eager
    last = st.last_rule
    table = st.table
    if last is None and st.last_ln == ln - 1 and st.last_chain is not None and st.last_chain.rules:
        rule = st.last_chain.rules[-1]
        if rule.src.line == ln - 1:
            last = st.last_rule = _Last(ln - 1, rule.raw, rule.raw, [ln - 1], rule, st.last_chain)
    if last is None or last.lines[-1] != ln - 1 or table is None:
        return False
    if st.width is None:
        st.width = max(len(line) for line in st.lines)
    if len(raw) == st.width and ln < len(st.lines) and not _stands_alone(st.lines[ln]):
        _pending(st, last, ln, raw)  # this tail is full width too: the rule goes on on the next line
        return True
    readings: dict[str, _Parts] = {}
    incomplete = False
    for joined in dict.fromkeys((last.text + raw, last.text.rstrip() + " " + raw.strip())):
        try:
            parts = _spec(st, joined, last.chain.name)
        except ValueError as exc:
            incomplete = incomplete or any(w in str(exc) for w in ("unterminated", "without a"))
            continue
        if _jumps_somewhere(st, parts[3]):
            readings[joined] = parts
        else:
            incomplete = True  # the chain name it jumps to may go on on the next line
    best = min((_unknown_parts(p[2], p[3]) for p in readings.values()), default=None)
    before = _unknown_parts(last.rule.matches, last.rule.target) if last.rule is not None else None
    clean = {j: p for j, p in readings.items()
             if _unknown_parts(p[2], p[3]) == best and (best == 0 if before is None else best <= before)}
    if len(clean) > 1:
        clean = _by_width(st, ln, clean)
    if len(clean) != 1:
        if not clean and incomplete and (last.rule is None or not readings):
            _pending(st, last, ln, raw)  # the middle of a longer wrap: wait for its end
            return True
        if len(clean) > 1:  # two different rules, depending on whether the wrap ate a space: neither
            if last.rule is not None:
                last.chain.rules.pop()
                st.bad(last.first, last.raw, f"wrapped on line {ln}, and it cannot be told how: left unparsed")
            st.bad(ln, raw, f"the wrapped tail of line {last.first}; joined with or without a space it gives "
                            "two different rules: left unparsed")
            st.last_rule = None
            st.last_chain = None
            return True
        return False
    ((joined, (counters, head, matches, target)),) = clean.items()
    chain = last.chain
    if last.rule is not None:
        chain.rules.pop()
    else:
        done = set(last.lines)
        st.unparsed = [u for u in st.unparsed if u.line not in done]
        st.notes = [n for n in st.notes if not any(n.startswith(f"line {d}: ") for d in done)]
    rule = _make_rule(st.file, table.name, chain.name, last.first, joined, counters, head, matches, target,
                      len(chain.rules) + 1)
    chain.rules.append(rule)
    st.notes.append(f"line {ln}: the wrapped tail of line {last.first}; joined to it")
    st.last_rule = _Last(last.first, last.raw, joined, [*last.lines, ln], rule, chain)
    return True


_Parts = tuple[tuple[int, int] | None, tuple[Any, ...], list[Any], Target | None]
_STANDALONE = ("-A", "-I", "-P", "-N", "--append", "[", ":", "*", "#", "COMMIT")


def _stands_alone(line: str) -> bool:
    """A line of the save or -S format that is not the tail of a wrapped one (or a blank line)."""
    stripped = line.strip()
    return not stripped or stripped.startswith(_STANDALONE)


def _pending(st: _State, last: _Last, ln: int, raw: str) -> None:
    """Keep `raw` as a middle part of the wrapped rule `last`; its lines stay unparsed until the end reads."""
    if last.rule is not None:
        last.chain.rules.pop()
        st.bad(last.first, last.raw, f"wrapped on line {ln}: read with the lines after it")
        last.rule = None
    last.text += raw
    last.lines.append(ln)
    st.bad(ln, raw, f"part of line {last.first}'s wrapped rule, which does not read yet")


def _by_width(st: _State, ln: int, readings: dict[str, _Parts]) -> dict[str, _Parts]:
    """Of two readings (joined without, then with a space), the one the wrap width tells, else both.

    A terminal or `fold` breaks a line at its width W whatever the character there, so a line before a
    wrapped tail that is W long broke mid-word (no space between the parts); one W - 1 long lost the space
    that sat at the break (a paste that trims trailing blanks). W is the longest line of the file."""
    items = list(readings.items())
    if _same_but_comments(*(p[1:] for _, p in items)):
        return dict(items[:1])
    if st.width is None:
        st.width = max(len(line.rstrip("\r")) for line in st.lines)
    before = st.lines[ln - 2]
    if len(before) == st.width:
        return dict(items[:1])
    if len(before) == st.width - 1 and not before[-1:].isspace():
        return dict(items[1:])
    return readings


def _spec(st: _State, line: str, chain: str) -> _Parts:
    """(counters, head, matches, target) of the rule line `line` of `chain`; ValueError when it is not one."""
    counters, body = _split_counters(line.strip())
    words = body.split(None, 2)
    if len(words) < 2 or words[0] not in ("-A", "--append") or words[1] != chain:
        raise ValueError("not a rule of its chain")
    head, matches, target = st.reader.parts(words[2]) if len(words) > 2 else (_NO_HEAD, [], None)
    return counters or head[7], head, matches, target


def _unknown_parts(matches: list[Any], target: Target | None) -> int:
    """How much of a rule the model does not interpret: unknown modules and stray words after the target."""
    stray = sum(1 for k in target.options if k.startswith("_")) if target is not None else 0
    return sum(1 for m in matches if not m.known) + stray


def _jumps_somewhere(st: _State, target: Target | None) -> bool:
    """A standard target or a chain the dump declares (always true unless it declares all its chains)."""
    return target is None or not st.declares_all or target.name in STANDARD_TARGETS or target.name in st.declared


def _same_but_comments(*parts: tuple[tuple[Any, ...], list[Any], Target | None]) -> bool:
    """Whether two readings of a rule differ at most in a comment (a wrap inside one changes nothing)."""
    def strip(p: tuple[tuple[Any, ...], list[Any], Target | None]) -> list[object]:
        head, matches, target = p
        return [head[:6], target, [m for m in matches if m.module != "comment"]]
    first, second = parts
    return strip(first) == strip(second)
