"""The statement reader of the nft text format: one rule line (or a set's elements) -> NftExprs.

nft's rule grammar is a sequence of statements: matches (`ip saddr 10.0.0.0/8`, `tcp dport { 22, 80 }`,
`ct state established,related`, `iifname "eth0"`, `ip daddr . tcp dport @svc`), verdicts (`accept`,
`reject with icmpx admin-prohibited`, `jump X`...), NAT (`dnat to 10.0.0.1:80`, `masquerade`), and
statements that do not decide (`counter packets 1 bytes 84`, `log prefix "x"`, `meta mark set 0x1`,
`comment "x"`). Each becomes an NftExpr with the same keys the JSON reader gives (`meta iifname`,
`ip saddr`...). A statement the reader does not know is kept verbatim (kind "unknown") up to the next
statement it recognises, so the rule's verdict is still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsnap.model.nftables import NftExpr
from netsnap.parsers.nft_names import UNQUALIFIED_META, meta_key, reject_text

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}(),]|[^\s{}(),"]+')
PAYLOAD_PROTOS = frozenset({
    "ip", "ip6", "tcp", "udp", "udplite", "sctp", "dccp", "th", "icmp", "icmpv6", "igmp", "ah", "esp", "comp",
    "ether", "vlan", "arp", "gre", "geneve", "vxlan", "hbh", "frag", "mh", "dst", "srh", "ipcomp",
})
OTHER_SELECTORS = frozenset({"meta", "ct", "fib", "socket", "rt", "ipsec", "osf", "numgen", "jhash", "symhash",
                             "exthdr", "cgroupv2"})
_OPS = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "eq": "==", "ne": "!=", "lt": "<",
        "gt": ">", "le": "<=", "ge": ">="}
_FLAG_KEYS = frozenset({"ct state", "ct status", "tcp flags"})
_SIMPLE_VERDICTS = frozenset({"accept", "drop", "continue", "return"})
_NAT = frozenset({"dnat", "snat", "masquerade", "redirect"})
_DECIDING = frozenset({*_SIMPLE_VERDICTS, "jump", "goto", "reject", "queue", *_NAT})
# words that start a statement: an unknown statement ends before the next one
_STATEMENT_START = frozenset({*_DECIDING, "counter", "log", "limit", "quota", "comment", "notrack", "xt"})
_FIB_RESULTS = frozenset({"oif", "oifname", "type"})
_QUEUE_WORDS = frozenset({"num", "to", "flags", "bypass", "fanout", "bypass,fanout", "fanout,bypass"})
_ELEMENT_OPTIONS = frozenset({"timeout", "expires", "counter", "comment", "packets", "bytes"})


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def value(self) -> str:
        """The token without the quotes nft puts around strings."""
        t = self.text
        return t[1:-1] if len(t) >= 2 and t[0] == '"' and t[-1] == '"' else t


class Unreadable(ValueError):
    """A statement the reader does not know."""


def tokens(line: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(line)]


@dataclass
class RuleParts:
    """What one rule line holds: its statements, comment, counters and how many were not understood."""

    exprs: list[NftExpr]
    comment: str | None = None
    packets: int | None = None
    bytes: int | None = None
    unknown: int = 0


class _Reader:
    def __init__(self, line: str, family: str) -> None:
        self.line = line
        self.toks = tokens(line)
        self.pos = 0
        self.family = family

    # -- cursor ---------------------------------------------------------------------------------
    def peek(self, k: int = 0) -> str | None:
        i = self.pos + k
        return self.toks[i].text if i < len(self.toks) else None

    def take(self) -> Token:
        if self.pos >= len(self.toks):
            raise Unreadable("unexpected end of the rule")
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def text_from(self, start: int) -> str:
        if start >= len(self.toks):
            return ""
        end = self.toks[self.pos - 1].end if self.pos > start else self.toks[start].end
        return self.line[self.toks[start].start:end]

    def done(self) -> bool:
        return self.pos >= len(self.toks)

    # -- rule -----------------------------------------------------------------------------------
    def rule(self) -> RuleParts:
        parts = RuleParts(exprs=[])
        while not self.done():
            start = self.pos
            if self.peek() == "#":  # a trailing comment nft adds: `# xt_conntrack` for untranslated xt matches
                rest = self.line[self.toks[self.pos].end:].strip()
                self.pos = len(self.toks)
                if rest.startswith("xt_"):
                    parts.exprs.append(NftExpr(kind="xt", text=f"# {rest}", value=rest[3:], known=False))
                continue
            try:
                expr = self.statement(parts)
            except Unreadable:
                self.pos = start + 1
                while not self.done() and not self.starts_statement(self.peek() or ""):
                    self.skip_group()
                expr = NftExpr(kind="unknown", text=self.text_from(start), known=False)
            if expr is not None:
                if not expr.known and expr.kind in ("unknown", "match"):
                    parts.unknown += 1
                parts.exprs.append(expr)
        return parts

    def starts_statement(self, word: str) -> bool:
        """A word a known statement starts with (where reading resumes after one not understood)."""
        return word in _STATEMENT_START or (self.is_selector(word) and not word.startswith("@"))

    def skip_group(self) -> None:
        """Skip one token, or a whole `{ ... }` / `( ... )` group."""
        tok = self.take().text
        if tok in ("{", "("):
            close = "}" if tok == "{" else ")"
            depth = 1
            while depth and not self.done():
                t = self.take().text
                depth += 1 if t == tok else (-1 if t == close else 0)

    def statement(self, parts: RuleParts) -> NftExpr | None:
        start = self.pos
        word = self.peek()
        assert word is not None
        if word in _SIMPLE_VERDICTS:
            self.take()
            return NftExpr(kind="verdict", text=word, verdict=word)
        if word in ("jump", "goto"):
            self.take()
            target = self.take().value
            return NftExpr(kind="verdict", text=self.text_from(start), verdict=word, target=target)
        if word == "reject":
            return self.reject()
        if word == "queue":
            self.take()
            while self.peek() in _QUEUE_WORDS or (self.peek() or "x")[0].isdigit():
                self.take()
            return NftExpr(kind="verdict", text=self.text_from(start), verdict="queue")
        if word in _NAT:
            return self.nat()
        if word == "counter":
            self.take()
            if self.peek() == "name":
                self.take()
                self.take()
            while self.peek() in ("packets", "bytes"):
                key = self.take().text
                num = self.take().text
                if num.isdigit():
                    if key == "packets":
                        parts.packets = int(num)
                    else:
                        parts.bytes = int(num)
            return NftExpr(kind="counter", text=self.text_from(start))
        if word == "log":
            self.take()
            while self.peek() in ("prefix", "level", "group", "snaplen", "queue-threshold", "flags"):
                self.take()
                self.take()
            return NftExpr(kind="log", text=self.text_from(start))
        if word in ("limit", "quota"):
            self.take()
            while not self.done() and self.peek() not in _STATEMENT_START:
                self.take()
            return NftExpr(kind="limit", text=self.text_from(start), known=False)
        if word == "comment":
            self.take()
            parts.comment = self.take().value
            return None
        if word == "notrack":
            self.take()
            return NftExpr(kind="other", text="notrack")
        if word == "xt":
            self.take()
            xtype = self.take().text
            name = self.take().value
            return NftExpr(kind="xt", text=self.text_from(start), value=name,
                           verdict="target" if xtype == "target" else None, known=False)
        if word in ("add", "update", "delete") and (self.peek(1) or "").startswith("@"):
            self.take()
            self.take()
            if self.peek() == "{":
                self.skip_group()
            return NftExpr(kind="other", text=self.text_from(start))
        if word == "flow":
            self.take()
            while not self.done() and self.peek() not in _STATEMENT_START:
                self.take()
            return NftExpr(kind="other", text=self.text_from(start))
        if self.is_selector(word):
            return self.match()
        raise Unreadable(word)

    # -- verdicts and NAT -------------------------------------------------------------------------
    def reject(self) -> NftExpr:
        start = self.pos
        self.take()
        kind = code = None
        if self.peek() == "with":
            self.take()
            kind = self.take().text
            if kind == "tcp":
                if self.peek() == "reset":
                    self.take()
                kind = "tcp reset"
            else:
                if self.peek() == "type":  # older nft: `reject with icmp type host-prohibited`
                    self.take()
                code = self.take().text
        text = self.text_from(start)
        return NftExpr(kind="verdict", text=text, verdict="reject", reject_with=reject_text(kind, code, self.family))

    def nat(self) -> NftExpr:
        start = self.pos
        kind = self.take().text
        addr = port = None
        known = True
        if self.peek() in ("ip", "ip6") and self.peek(1) == "to":
            self.take()
        if self.peek() == "to":
            self.take()
            target = self.take().value
            if self.is_selector(target) and self.peek() is not None:  # `dnat to ip daddr map { ... }`
                while not self.done() and self.peek() not in _STATEMENT_START:
                    self.skip_group()
                return NftExpr(kind="nat", text=self.text_from(start), verdict=kind, known=False)
            addr, port = split_addr_port(target)
        while self.peek() is not None and self.peek() not in _STATEMENT_START and self.peek() != "#":
            flags = self.take().text  # random, persistent, fully-random, port ranges...
            if flags.startswith(":") and port is None:
                port = flags[1:]
        if kind in ("dnat", "snat") and addr is None:
            known = False
        return NftExpr(kind="nat", text=self.text_from(start), verdict=kind, addr=addr, port=port, known=known)

    # -- matches --------------------------------------------------------------------------------
    def is_selector(self, word: str) -> bool:
        return word in PAYLOAD_PROTOS or word in OTHER_SELECTORS or word in UNQUALIFIED_META or word.startswith("@")

    def selector(self) -> str:
        word = self.take().text
        if word in UNQUALIFIED_META:
            return meta_key(word)
        if word == "meta":
            return meta_key(self.take().text)
        if word == "ct":
            words = ["ct"]
            if self.peek() in ("original", "reply"):
                words.append(self.take().text)
            if self.peek() in ("ip", "ip6"):
                words.append(self.take().text)
            words.append(self.take().text)
            return " ".join(words)
        if word == "fib":
            flags = [self.take().text]
            while self.peek() == ".":
                self.take()
                flags.append(self.take().text)
            result = self.take().text
            if result not in _FIB_RESULTS:
                raise Unreadable(f"fib {result}")
            return "fib " + " . ".join(flags) + f" {result}"
        if word == "numgen":
            words = [word]
            while self.peek() in ("random", "inc", "mod", "offset") or (self.peek() or "x").isdigit():
                words.append(self.take().text)
            return " ".join(words)
        if word.startswith("@"):  # raw payload `@nh,16,16`
            return word
        if word in ("jhash", "symhash", "osf", "ipsec", "exthdr", "cgroupv2"):
            raise Unreadable(word)
        field = self.take().text
        if not re.fullmatch(r"[a-z][a-z0-9-]*", field):
            raise Unreadable(f"{word} {field}")
        return f"{word} {field}"

    def match(self) -> NftExpr:
        start = self.pos
        keys = [self.selector()]
        while self.peek() == "." and self.peek(1) is not None and self.is_selector(self.peek(1) or ""):
            self.take()
            keys.append(self.selector())
        if self.peek() == "set":  # `meta mark set 0x1`, `ct mark set meta mark`
            self.take()
            vstart = self.pos
            while not self.done() and self.peek() not in _STATEMENT_START:
                self.skip_group()
            value = self.text_from(vstart)
            return NftExpr(kind="mangle", text=self.text_from(start), left=keys, value=value)
        mask = None
        if self.peek() == "&":
            self.take()
            mask = self.mask_value()
        op = "=="
        if self.peek() in _OPS:
            op = _OPS[self.take().text]
        nxt = self.peek()
        if nxt == "vmap":
            return self.vmap(start, keys, mask)
        if nxt is None or nxt in ("map",):
            raise Unreadable("match without a value")
        if nxt == "{":
            values = self.anonymous_set()
            return NftExpr(kind="match", text=self.text_from(start), left=keys, mask=mask, op=op, right=values,
                           anonymous=True)
        if nxt.startswith("@"):
            ref = self.take().text[1:]
            return NftExpr(kind="match", text=self.text_from(start), left=keys, mask=mask, op=op, set_ref=ref)
        values = [self.scalar(len(keys))]
        while self.peek() == ",":
            self.take()
            values.append(self.scalar(len(keys)))
        if self.peek() == "/":  # `tcp flags syn / fin,syn,rst,ack`: value / mask
            self.take()
            mask = self.mask_value()
        if op == "==" and mask is None and len(keys) == 1 and keys[0] in _FLAG_KEYS:
            op = "==" if "==" in self.text_from(start) else "in"
        return NftExpr(kind="match", text=self.text_from(start), left=keys, mask=mask, op=op, right=values)

    def mask_value(self) -> str:
        if self.peek() == "(":
            self.take()
            parts: list[str] = []
            while not self.done() and self.peek() != ")":
                parts.append(self.take().text)
            self.take()
            return ",".join(p for p in "".join(parts).split("|") if p)
        words = [self.take().text]
        while self.peek() == ",":
            self.take()
            words.append(self.take().text)
        return ",".join(words)

    def scalar(self, parts: int) -> str:
        """One value; with a concatenated key, its parts joined by " . "."""
        tok = self.take()
        if tok.text in ("{", "}", "(", ")", ","):
            raise Unreadable(tok.text)
        words = [tok.value]
        while len(words) < parts and self.peek() == ".":
            self.take()
            words.append(self.take().value)
        return " . ".join(words)

    def anonymous_set(self) -> list[str]:
        """`{ a, b . c, 1000-2000 }` -> ["a", "b . c", "1000-2000"] (a map's `k : v` elements stay whole)."""
        self.take()  # {
        out: list[str] = []
        words: list[str] = []
        while True:
            if self.done():
                raise Unreadable("set not closed")
            tok = self.take()
            if tok.text in ("}", ","):
                if words:
                    out.append(" ".join(words))
                words = []
                if tok.text == "}":
                    return out
                continue
            if tok.text == "{":
                raise Unreadable("nested set")
            if tok.text in _ELEMENT_OPTIONS:  # `10.0.0.1 timeout 1h expires 59m`: per-element options
                self.take()
                continue
            words.append(tok.value)

    def vmap(self, start: int, keys: list[str], mask: str | None) -> NftExpr:
        self.take()  # vmap
        if (self.peek() or "").startswith("@"):
            ref = self.take().text[1:]
            return NftExpr(kind="vmap", text=self.text_from(start), left=keys, mask=mask, set_ref=ref)
        if self.peek() != "{":
            raise Unreadable("vmap without a map")
        pairs = []
        for elem in self.anonymous_set():
            key, sep, verdict = elem.partition(" : ")
            if not sep:
                raise Unreadable(f"vmap element {elem}")
            pairs.append((key, verdict))
        return NftExpr(kind="vmap", text=self.text_from(start), left=keys, mask=mask, mapping=pairs)


def split_addr_port(target: str) -> tuple[str | None, str | None]:
    """`10.0.0.1:80` -> ("10.0.0.1", "80"); `:80` -> (None, "80"); `[fd00::1]:80` -> ("fd00::1", "80");
    `10.0.0.1` -> ("10.0.0.1", None)."""
    if target.startswith("["):
        addr, _, rest = target[1:].partition("]")
        return addr, rest[1:] if rest.startswith(":") else None
    if target.count(":") == 1:
        addr, _, port = target.partition(":")
        return addr or None, port or None
    return target or None, None


def read_rule(line: str, family: str) -> RuleParts:
    """The statements of one rule line (without its `# handle N`)."""
    return _Reader(line, family).rule()


def read_elements(text: str) -> list[str]:
    """The elements of `{ a, b, c }` (a set's `elements = { ... }` with the `elements =` cut off)."""
    reader = _Reader(text, "inet")
    if reader.peek() != "{":
        raise Unreadable("elements are not a { } list")
    return reader.anonymous_set()
