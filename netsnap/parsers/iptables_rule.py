"""Tokenise an iptables rule specification and break it into the model's matches and target.

Used by the save-format parser (`-A CHAIN -s X -m comment --comment "..." -j DNAT ...`); the list
parser shares `parse_net` and `KNOWN_MODULES`. Built for kube-proxy sized rulesets (100k rules):
`parse_spec` is the reference one-pass reader over quote-aware tokens; `SpecReader` cuts specs into
segments and parses each distinct segment once (records parsed from identical text, and equal
head matches such as `-p tcp`, are shared between rules, so treat the parsed model as read-only);
records are built with `netsnap.model.unchecked.fast_record` (values are checked here, pydantic
does not re-validate them).

Rules of the grammar as `iptables-save` prints it (iptables 1.4 to 1.8, legacy and nft):
- basic matches `[!] -s/-d NET`, `[!] -i/-o IFACE`, `[!] -p PROTO`, `[!] -f`; the old form
  `-s ! NET` is accepted too;
- `-m NAME` opens a match module; `[!] --opt [values...]` belong to the open module; an option
  before any `-m` belongs to the implicit protocol module (`-p udp --dport 53` -> module "udp");
- `-j NAME` / `-g NAME` ends the matches; everything after it is the target's options;
- values are the tokens up to the next `--opt`, `-x` or `!`; quoted strings are one token
  (`"a \\"b\\" -j c"`), so `-j` inside a comment never ends a rule.
A module, or an option of a known module, that the model does not interpret is kept with
`known=False` and its verbatim text: it is never dropped.
"""

from __future__ import annotations

import re
import sys
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any

from netsnap.model.iptables import AddrMatch, MatchModule, MatchOption, NameMatch, Target
from netsnap.model.unchecked import fast_record
from netsnap.parsers.ipv4 import network as ipv4_network

# Match modules the model interprets, with the options it understands for each.
KNOWN_MODULES: dict[str, frozenset[str]] = {
    "tcp": frozenset({"sport", "dport", "source-port", "destination-port", "tcp-flags", "syn", "tcp-option"}),
    "udp": frozenset({"sport", "dport", "source-port", "destination-port"}),
    "sctp": frozenset({"sport", "dport", "source-port", "destination-port"}),
    "icmp": frozenset({"icmp-type"}),
    "icmp6": frozenset({"icmpv6-type"}),
    "multiport": frozenset({"dports", "sports", "ports", "destination-ports", "source-ports"}),
    "state": frozenset({"state"}),
    "conntrack": frozenset({"ctstate", "ctstatus", "ctproto", "ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst",
                            "ctorigsrcport", "ctorigdstport", "ctreplsrcport", "ctrepldstport", "ctdir"}),
    "comment": frozenset({"comment"}),
    "addrtype": frozenset({"src-type", "dst-type", "limit-iface-in", "limit-iface-out"}),
    "set": frozenset({"match-set"}),
    "statistic": frozenset({"mode", "probability", "every", "packet"}),
    "mark": frozenset({"mark"}),
    "connmark": frozenset({"mark"}),
    "physdev": frozenset({"physdev-in", "physdev-out", "physdev-is-in", "physdev-is-out", "physdev-is-bridged"}),
    "limit": frozenset({"limit", "limit-burst"}),
}
# `-p NAME` that give an implicit module for options written before any `-m`.
IMPLICIT_PROTOCOLS = frozenset({"tcp", "udp", "sctp", "icmp", "icmp6"})
_PROTO_ALIASES = {"ipv6-icmp": "icmp6", "icmpv6": "icmp6"}

_ADDR = {"-s": "source", "--source": "source", "--src": "source",
         "-d": "destination", "--destination": "destination", "--dst": "destination"}
_NAME = {"-i": "in_iface", "--in-interface": "in_iface", "-o": "out_iface", "--out-interface": "out_iface",
         "-p": "protocol", "--protocol": "protocol"}
_MODULE = frozenset({"-m", "--match"})
_JUMP = frozenset({"-j", "--jump"})
_GOTO = frozenset({"-g", "--goto"})

_TOKEN = re.compile(r'(?:"(?:[^"\\]|\\.)*(?:"|$)|[^\s"])+')
_ESCAPE = re.compile(r"\\(.)")


# A sufficient condition for `SpecReader.parts` to read a spec without raising, with IPv4 addresses only,
# and the target it names (group `target`): options separated by single spaces, `-s`/`-d` with a dotted
# quad, values that are neither options nor `!`, quotes only around whole values with no ` -`/` !` inside,
# no backslash, a `-j`/`-g` target. A parser may defer reading such a spec (iptables_save's lazy chains);
# a spec that does not fit is read at once. It decides only when to read, never what a rule means.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_WORD = r'[^\s"!\\-][^\s"\\]*'
_QUOTED = r'"(?:[^"\\ ]| (?![-!]))*"'
_BASIC_LONG = "source|src|destination|dst|in-interface|out-interface|protocol|fragment|match|jump|goto"
SURE_SPEC = re.compile(
    rf"(?:(?:(?:! )?(?:-[sd] {_OCTET}(?:\.{_OCTET}){{3}}(?:/(?:3[0-2]|[12]?\d))?|-[iop] {_WORD}|-f)"
    rf"|-m {_WORD}"
    rf"|(?:! )?--(?!(?:{_BASIC_LONG})(?: |$))[a-z][\w-]*(?: (?:{_WORD}|{_QUOTED}))*) )*"
    rf"-[jg] (?P<target>{_WORD})(?: (?:[^\s\"\\]+|{_QUOTED}))*"
)


class RuleSyntaxError(ValueError):
    """A rule specification this grammar cannot read (e.g. `-s` without a value)."""


def split_tokens(text: str) -> list[str]:
    """Split a rule on whitespace, keeping double-quoted strings (with `\\"` escapes) in one token.

    Quotes stay in the tokens (use `unquote`), so a quoted `"-j"` is never taken for an option.
    Raises RuleSyntaxError on an unterminated quote.
    """
    if '"' not in text:
        return text.split()
    if (text.count('"') - text.count('\\"')) % 2:
        raise RuleSyntaxError("unterminated quote")
    return _TOKEN.findall(text)


def unquote(token: str) -> str:
    """`"a \\"b\\""` -> `a "b"`; unquoted tokens are returned as they are."""
    if '"' not in token:
        return token
    out: list[str] = []
    for part in re.split(r'("(?:[^"\\]|\\.)*(?:"|$))', token):
        if part.startswith('"'):
            inner = part[1:-1] if len(part) > 1 and part.endswith('"') and not part.endswith('\\"') else part[1:]
            out.append(_ESCAPE.sub(r"\1", inner))
        else:
            out.append(part)
    return "".join(out)


def parse_net(text: str) -> IPv4Network | IPv6Network:
    """`10.0.0.1`, `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `::1/128` -> network (host bits tolerated).

    Not memoised here: the callers share equal matches per parse (SpecReader's atoms, the list
    parser's address cache), and a module-level memo kept every key string alive between bundles."""
    return ipv4_network(text) or ip_network(text, strict=False)


def _is_option_start(tok: str) -> bool:
    return tok == "!" or (len(tok) > 1 and tok[0] == "-")


def _values(tokens: list[str], i: int, n: int) -> tuple[list[str], int]:
    """The values of an option starting at `tokens[i]`, and the index after them."""
    j = i
    while j < n:
        tok = tokens[j]
        if tok == "!" or (len(tok) > 1 and tok[0] == "-"):
            break
        j += 1
    return [unquote(t) for t in tokens[i:j]], j


class _Module:
    """A match module being read: its name, options, verbatim tokens and whether all is known."""

    __slots__ = ("allowed", "known", "name", "options", "tokens")

    def __init__(self, name: str, head: list[str]) -> None:
        self.name = name
        allowed = KNOWN_MODULES.get(name)
        self.allowed = allowed
        self.known = allowed is not None
        self.options: list[MatchOption] = []
        self.tokens = head

    def add(self, name: str, values: list[str], negated: bool, verbatim: list[str]) -> None:
        """Add option `--name values` (`verbatim`: its tokens as written, without a leading `!`)."""
        self.options.append(fast_record(MatchOption, {"name": name, "values": values, "negated": negated}))
        if negated:
            self.tokens.append("!")
        self.tokens.extend(verbatim)
        if self.allowed is None or name not in self.allowed:
            self.known = False

    def build(self) -> MatchModule:
        return fast_record(MatchModule, {
            "module": self.name,
            "options": self.options,
            "known": self.known,
            "text": "" if self.known else " ".join(self.tokens),
        })


class RuleSpec:
    """The parts of one rule specification, ready to go into an `IptRule`."""

    __slots__ = ("counters", "destination", "fragment", "in_iface", "matches", "out_iface", "protocol", "source",
                 "target")

    def __init__(self) -> None:
        self.source: AddrMatch | None = None
        self.destination: AddrMatch | None = None
        self.in_iface: NameMatch | None = None
        self.out_iface: NameMatch | None = None
        self.protocol: NameMatch | None = None
        self.fragment: bool | None = None
        self.matches: list[MatchModule] = []
        self.target: Target | None = None
        self.counters: tuple[int, int] | None = None


def parse_spec(tokens: list[str], start: int = 0) -> RuleSpec:
    """Read `tokens[start:]` (raw tokens from `split_tokens`) into a RuleSpec.

    Raises RuleSyntaxError (or ValueError from an address) when the tokens do not form a rule.
    """
    spec = RuleSpec()
    n = len(tokens)
    i = start
    negate = False
    cur: _Module | None = None
    matches = spec.matches
    while i < n:
        tok = tokens[i]
        if tok == "!":
            negate = True
            i += 1
            continue
        field = _ADDR.get(tok)
        if field is not None and (cur is None or tok[1] != "-"):
            i, value, negate = _basic_value(tokens, i, n, negate)
            addr = fast_record(AddrMatch, {"net": parse_net(value), "negated": negate})
            setattr(spec, field, addr)
            negate = False
            continue
        field = _NAME.get(tok)
        if field is not None and (cur is None or tok[1] != "-"):
            i, value, negate = _basic_value(tokens, i, n, negate)
            setattr(spec, field, fast_record(NameMatch, {"value": value, "negated": negate}))
            negate = False
            continue
        if tok in _MODULE:
            if i + 1 >= n:
                raise RuleSyntaxError(f"{tok} without a module name")
            if cur is not None:
                matches.append(cur.build())
            cur = _Module(tokens[i + 1], [tok, tokens[i + 1]])
            i += 2
            continue
        if tok in _JUMP or tok in _GOTO:
            if i + 1 >= n:
                raise RuleSyntaxError(f"{tok} without a target")
            if cur is not None:
                matches.append(cur.build())
                cur = None
            spec.target = _target(tokens, i, n)
            break
        if tok == "-f" or (tok == "--fragment" and cur is None):
            spec.fragment = not negate
            negate = False
            i += 1
            continue
        if tok == "-c" and i + 2 < n and tokens[i + 1].isdigit() and tokens[i + 2].isdigit():
            spec.counters = (int(tokens[i + 1]), int(tokens[i + 2]))
            i += 3
            continue
        if tok.startswith("--") and len(tok) > 2:
            if cur is None:
                cur = _implicit_module(spec.protocol)
            values, j = _values(tokens, i + 1, n)
            cur.add(tok[2:], values, negate, tokens[i:j])
            negate = False
            i = j
            continue
        # anything else (a stray word, an unknown short option): keep it verbatim, never drop it
        values, j = _values(tokens, i + 1, n)
        if cur is not None:
            matches.append(cur.build())
            cur = None
        text = " ".join((["!"] if negate else []) + tokens[i:j])
        matches.append(fast_record(MatchModule, {"module": "?", "options": [], "known": False, "text": text}))
        negate = False
        i = max(j, i + 1)
    if cur is not None:
        matches.append(cur.build())
    if negate:
        raise RuleSyntaxError("'!' at the end of the rule")
    return spec


def _basic_value(tokens: list[str], i: int, n: int, negate: bool) -> tuple[int, str, bool]:
    """Value of `-s X`, `-s ! X` (old form); returns (next index, value, negated)."""
    if i + 1 < n and tokens[i + 1] == "!":
        negate = True
        i += 1
    if i + 1 >= n or _is_option_start(tokens[i + 1]):
        raise RuleSyntaxError(f"{tokens[i]} without a value")
    return i + 2, unquote(tokens[i + 1]), negate


def _implicit_module(protocol: NameMatch | None) -> _Module:
    """The module an option written before any `-m` belongs to (`-p udp --dport 53` -> "udp")."""
    name = protocol.value.lower() if protocol is not None and not protocol.negated else ""
    name = _PROTO_ALIASES.get(name, name)
    if name in IMPLICIT_PROTOCOLS:
        return _Module(name, [])
    mod = _Module("?", [])
    mod.known = False
    return mod


def _target(tokens: list[str], i: int, n: int) -> Target:
    """`-j NAME [--opt value...]` or `-g NAME` at `tokens[i]`."""
    goto = tokens[i] in _GOTO
    name = unquote(tokens[i + 1])
    options: dict[str, str] = {}
    j = i + 2
    while j < n:
        tok = tokens[j]
        if tok.startswith("--") and len(tok) > 2:
            values, k = _values(tokens, j + 1, n)
            options[tok[2:]] = " ".join(values)
            j = k
        else:
            # a stray word after the target: keep it under a numbered key so nothing is lost
            options[f"_{j - i - 1}"] = unquote(tok)
            j += 1
    text = " ".join(tokens[i:n])
    return fast_record(Target, {"name": name, "goto": goto, "options": options, "text": text})


# (source, destination, in_iface, out_iface, protocol, fragment, matches, counters) of a rule's head
_Head = tuple[AddrMatch | None, AddrMatch | None, NameMatch | None, NameMatch | None, NameMatch | None,
              bool | None, tuple[MatchModule, ...], tuple[int, int] | None]


class SpecReader:
    """Read rule specifications fast by caching the parse of each segment of a rule.

    A spec is cut at ` -m ` and at its ` -j `/` -g ` into segments (C-level string splits); each
    distinct segment text is parsed once with `parse_spec` and its records are reused for every
    rule that repeats it (kube-proxy repeats comments, `-m tcp --dport`, `-j KUBE-MARK-MASQ`...).
    Records parsed from the same text within one reader are therefore SHARED between rules: the
    parsed model is read-only. Whenever the cut is not safe (quotes spanning a cut, a segment that
    is not a pure match block, anything the segment parse rejects), the whole spec goes through
    `parse_spec`, so the result is always the same as the slow path's.
    """

    __slots__ = ("_atoms", "_blocks", "_heads", "_slow_targets", "_targets", "saw_ipv6")

    def __init__(self) -> None:
        self.saw_ipv6 = False
        self._slow_targets: set[str] = set()
        self._heads: dict[str, _Head | None] = {}
        self._blocks: dict[str, list[MatchModule] | None] = {}
        self._targets: dict[str, Target | None] = {}
        self._atoms: list[_Atoms] = [{} for _ in range(2 * len(_HEAD_INDEX))]

    def read(self, rest: str) -> RuleSpec:
        """Parse the spec `rest` (the text after `-A CHAIN `) into a RuleSpec. Raises like `parse_spec`."""
        head, matches, target = self.parts(rest)
        spec = RuleSpec()
        (spec.source, spec.destination, spec.in_iface, spec.out_iface, spec.protocol, spec.fragment, _,
         spec.counters) = head
        spec.matches = matches
        spec.target = target
        return spec

    def parts(self, rest: str) -> tuple[_Head, list[MatchModule], Target | None]:
        """(head, matches, target) of spec `rest`; the head's `matches` element is already in `matches`.

        Raises like `parse_spec`. Sets `saw_ipv6` when an address is IPv6.
        """
        found = self._fast(rest)
        if found is not None:
            return found
        spec = parse_spec(split_tokens(rest))
        if spec.target is not None:
            self._slow_targets.add(spec.target.name)
        head: _Head = (spec.source, spec.destination, spec.in_iface, spec.out_iface, spec.protocol, spec.fragment,
                       (), spec.counters)
        if _is_v6(head):
            self.saw_ipv6 = True
        return head, spec.matches, spec.target

    def target_names(self) -> set[str]:
        """Every target name this reader has read (a superset of those of the rules kept: a spec read
        and then dropped, e.g. half of a wrapped line, counts too). Cheap: one entry per distinct target."""
        return {t.name for t in self._targets.values() if t is not None} | self._slow_targets

    def _fast(self, rest: str) -> tuple[_Head, list[MatchModule], Target | None] | None:
        if "\\" in rest:
            return None
        parts = (" " + rest).split(" -m ")
        last = parts[-1]
        cut = last.find(" -j ")
        if cut < 0:
            cut = last.find(" -g ")
            if cut < 0:
                return None
        target_text = last[cut + 1:]
        head_text = parts[0] if len(parts) > 1 else last[:cut]
        if head_text:
            head = self._heads.get(head_text, _MISSING_H)
            if head is _MISSING_H:
                head = self._heads[head_text] = self._head(head_text)
                if head is not None and _is_v6(head):
                    self.saw_ipv6 = True
            if head is None:
                return None
        else:
            head = _EMPTY_H
        target = self._targets.get(target_text, _MISSING_T)
        if target is _MISSING_T:
            target = self._targets[target_text] = self._target(target_text)
        if target is None:
            return None
        matches = list(head[6])
        n = len(parts)
        if n > 1:
            parts[-1] = last[:cut]
            blocks = self._blocks
            for k in range(1, n):
                block_text = parts[k]
                block = blocks.get(block_text, _MISSING_B)
                if block is _MISSING_B:
                    block = blocks[block_text] = self._block(block_text)
                if block is None:
                    return None
                matches += block
        return head, matches, target

    def _head(self, text: str) -> _Head | None:
        if text.count('"') % 2:
            return None
        if '"' not in text:
            head = _plain_head(text.split(), self._atoms)
            if head is not None:
                return head
        try:
            spec = parse_spec(split_tokens(text))
        except ValueError:
            return None
        if spec.target is not None:
            return None
        return (spec.source, spec.destination, spec.in_iface, spec.out_iface, spec.protocol, spec.fragment,
                tuple(spec.matches), spec.counters)

    @staticmethod
    def _block(text: str) -> list[MatchModule] | None:
        if text.count('"') % 2:
            return None
        if '"' not in text:
            return _plain_block(text.split())
        if text.startswith('comment --comment "') and text.endswith('"') and text.count('"') == 2:
            value = text[19:-1]
            option = fast_record(MatchOption, {"name": "comment", "values": [value], "negated": False})
            return [fast_record(MatchModule, {"module": "comment", "options": [option], "known": True, "text": ""})]
        try:
            spec = parse_spec(["-m", *split_tokens(text)])
        except ValueError:
            return None
        basic = (spec.source, spec.destination, spec.in_iface, spec.out_iface, spec.protocol, spec.fragment,
                 spec.counters, spec.target)
        if any(v is not None for v in basic):
            return None
        return spec.matches

    @staticmethod
    def _target(text: str) -> Target | None:
        if text.count('"') % 2:
            return None
        if '"' not in text:
            tokens = text.split()
            if len(tokens) == 2:
                name = sys.intern(tokens[1])  # the same string as the chain's name (iptables_save interns it)
                return fast_record(Target, {"name": name, "goto": tokens[0] in _GOTO, "options": _NO_OPTIONS,
                                            "text": text if text == f"{tokens[0]} {name}" else " ".join(tokens)})
            if tokens[1].startswith("-"):
                return None
            target = _target(tokens, 0, len(tokens))
            if target.text == text:  # keep one string: the cache key is the target's text
                target.__dict__["text"] = text
            return target
        try:
            return parse_spec(split_tokens(text)).target
        except ValueError:
            return None


_HEAD_INDEX = {"-s": 0, "-d": 1, "-i": 2, "-o": 3, "-p": 4}
_Atoms = dict[str, AddrMatch | NameMatch]


def _plain_head(tokens: list[str], atoms: list[_Atoms]) -> _Head | None:
    """`[!] -s X [!] -d Y [!] -i I [!] -o O [!] -p P [!] -f` without quotes, exactly as `parse_spec`
    reads it; None when the head holds anything else (then the slow path decides). Equal matches
    (`-p tcp`, `! -s 10.244.0.0/16`) are shared through `atoms`: one dict per (option, negated), keyed by
    the value text (no key tuples: they would be left as holes between the kept records)."""
    parts: list[Any] = [None, None, None, None, None, None]
    n = len(tokens)
    i = 0
    negate = False
    while i < n:
        tok = tokens[i]
        if tok == "!":
            negate = True
            i += 1
            continue
        if tok == "-f":
            parts[5] = not negate
            negate = False
            i += 1
            continue
        index = _HEAD_INDEX.get(tok)
        if index is None or i + 1 >= n:
            return None
        value = tokens[i + 1]
        if value == "!":
            negate = True
            i += 1
            if i + 1 >= n:
                return None
            value = tokens[i + 1]
        if value[0] == "-" and len(value) > 1:
            return None
        shared = atoms[2 * index + negate]
        atom = shared.get(value)
        if atom is None:
            if index < 2:
                atom = fast_record(AddrMatch, {"net": parse_net(value), "negated": negate})
            else:
                atom = fast_record(NameMatch, {"value": value, "negated": negate})
            shared[value] = atom
        parts[index] = atom
        negate = False
        i += 2
    if negate:
        return None
    return (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], (), None)


def _plain_block(tokens: list[str]) -> list[MatchModule] | None:
    """`NAME [!] --opt values...` without quotes, exactly as `parse_spec` reads it after `-m`;
    None when the block holds anything else (then the slow path decides)."""
    if not tokens or tokens[0].startswith("-") or tokens[0] == "!":
        return None
    mod = _Module(tokens[0], ["-m", tokens[0]])
    n = len(tokens)
    i = 1
    negate = False
    while i < n:
        tok = tokens[i]
        if tok == "!":
            if negate:
                return None
            negate = True
            i += 1
            continue
        if len(tok) < 3 or tok[0] != "-" or tok[1] != "-":
            return None
        j = i + 1
        while j < n:
            t = tokens[j]
            if t == "!" or (len(t) > 1 and t[0] == "-"):
                break
            j += 1
        mod.add(tok[2:], tokens[i + 1:j], negate, tokens[i:j])
        negate = False
        i = j
    if negate:
        return None
    return [mod.build()]


def _is_v6(head: _Head) -> bool:
    return any(a is not None and isinstance(a.net, IPv6Network) for a in (head[0], head[1]))


_NO_OPTIONS: dict[str, str] = {}  # shared by every target without options (the model is read-only)
_EMPTY_H: _Head = (None, None, None, None, None, None, (), None)
_MISSING_H: _Head = (None, None, None, None, None, None, (), None)
_MISSING_B: list[MatchModule] = []
_MISSING_T = fast_record(Target, {"name": "", "goto": False, "options": {}, "text": ""})
