r"""`ip -d address` and `ip -d link show` (sources ip_addr and ip_link) -> Parsed[Interface].

One Interface per `INDEX: NAME: <FLAGS> key value ...` line; `name` loses its `@peer` suffix
(kept in `link`, except `@NONE`). The indented lines below it are read by their first word:
`link/TYPE [MAC] brd ...` (mac, details), `inet`/`inet6` (addresses, with `valid_lft` lines
folded into the address above), `altname`/`alias`, the `-d` kind line (`vxlan id 1 local A dev D
... dstport P nolearning` -> VxlanInfo; `veth`, `bridge`, `tun`, `ipip`, `wireguard`, `dummy`,
... -> kind), `<kind>_slave ...` (slave_kind), and `RX:`/`TX:` counter headers with the number
row below them (also used by ip_link_stats); a link owns only the indented lines up to the next
line at column 0, whatever that line is. Detail words go to `details` as key -> value (flags
get ""); words of a kind or slave line are prefixed with it (`bridge_slave.state`). Only indented
lines belong to a link. `expected` is the number of link lines.

Pasted forms, read into the same model with provenance on the pasted lines:
- `ip -o link` (one line per link, `\` where the sub-lines were) is split back into its lines;
  `ip -o addr` / `ip -4 -o addr` (`INDEX: NAME    inet ...`, one line per address) becomes one
  interface per index with its addresses; such output shows no flags, state or MTU, so the interface
  has `details["flags"] = "not shown"` (and `flags` empty: not evidence of a down link) and a note.
- Terminal-wrapped lines (`fold`, a narrow terminal): a line of the file's longest length W followed
  by a line that is neither a link line nor an indented sub-line (or only blanks: a padded header's
  end) is joined to it, with a note (`vxlan id 1 local A dev D ... dstport 84` + `72 ...`).
- A tool's warnings before the output (`Database /etc/iproute2/group is corrupted at ...`), a pasted
  prompt line and markdown fences are understood.
- With counters expected (ip -s link), an interface whose counters were not read gets a note.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from ipaddress import IPv4Address, ip_address, ip_interface
from typing import Any

from pydantic import ValidationError

from netsnap.bundle.paste import paste_lines
from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.interfaces import Counters, IfAddress, Interface, VxlanInfo
from netsnap.parsers.records import LineError, left_unparsed
from netsnap.parsers.ttp_runner import run_template, unparsed_lines

SOURCE = "ip_addr"
# what a link line looks like for the count check (looser than the template: a name with spaces,
# which Linux forbids, still counts, so a hostile or mangled link line shows as a mismatch)
LINK_LINE = re.compile(r"^\d+: .+?: <")
ONE_LINE = re.compile(r"^\d+: \S+\s+(inet6?|link/\S+)\s")
MAC = re.compile(r"^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+$")
KINDS: frozenset[str] = frozenset({
    "vxlan", "veth", "bridge", "tun", "ipip", "ip6tnl", "sit", "gre", "gretap", "ip6gre", "ip6gretap", "wireguard",
    "dummy", "vlan", "macvlan", "macvtap", "ipvlan", "ipvtap", "geneve", "bond", "team", "vrf", "openvswitch",
    "nlmon", "ifb", "xfrm", "vti", "vti6", "bareudp", "can", "netdevsim", "erspan", "ip6erspan", "hsr", "macsec",
    "veth_pair", "tap",
})
# words that stand alone (no value) on a kind's detail line; other words are key/value pairs
_UDP_TUNNEL_FLAGS = frozenset({
    "udpcsum", "noudpcsum", "udp6zerocsumtx", "noudp6zerocsumtx", "udp6zerocsumrx", "noudp6zerocsumrx",
    "external", "noexternal", "innerprotoinherit",
})
_IP_TUNNEL_FLAGS = frozenset({
    "pmtudisc", "nopmtudisc", "ignore-df", "noignore-df", "icsum", "ocsum", "iseq", "oseq", "external",
    "ipip", "ip6ip6", "any", "gre", "noencap-csum", "encap-csum", "noencap-remcsum", "encap-remcsum",
})
KIND_FLAGS: dict[str, frozenset[str]] = {
    "vxlan": _UDP_TUNNEL_FLAGS | frozenset({
        "learning", "nolearning", "proxy", "noproxy", "rsc", "norsc", "l2miss", "nol2miss", "l3miss", "nol3miss",
        "gbp", "gpe", "remcsumtx", "noremcsumtx", "remcsumrx", "noremcsumrx", "localbypass", "nolocalbypass",
        "vnifilter",
    }),
    "geneve": _UDP_TUNNEL_FLAGS,
    "bareudp": _UDP_TUNNEL_FLAGS,
    "ipip": _IP_TUNNEL_FLAGS, "sit": _IP_TUNNEL_FLAGS, "ip6tnl": _IP_TUNNEL_FLAGS, "gre": _IP_TUNNEL_FLAGS,
    "gretap": _IP_TUNNEL_FLAGS, "ip6gre": _IP_TUNNEL_FLAGS, "ip6gretap": _IP_TUNNEL_FLAGS,
    "tun": frozenset({"multi_queue"}),
}
TWO_VALUES: frozenset[str] = frozenset({"srcport"})
# iproute2's generic -d keys: not prefixed with the kind
GENERIC_KEYS: frozenset[str] = frozenset({
    "promiscuity", "allmulti", "minmtu", "maxmtu", "addrgenmode", "numtxqueues", "numrxqueues", "gso_max_size",
    "gso_max_segs", "gro_max_size", "tso_max_size", "tso_max_segs", "gso_ipv4_max_size", "gro_ipv4_max_size",
    "parentbus", "parentdev", "link-netnsid", "link-netns", "brd", "permaddr",
})
ADDR_PAIRS: frozenset[str] = frozenset({"brd", "scope", "peer", "metric", "proto", "label"})
ADDR_FLAGS: frozenset[str] = frozenset({
    "secondary", "primary", "dynamic", "noprefixroute", "mngtmpaddr", "tentative", "deprecated", "dadfailed",
    "temporary", "home", "nodad", "optimistic", "permanent", "stable-privacy", "autojoin",
})
COUNTER_FIELDS: frozenset[str] = frozenset({"bytes", "packets", "errors", "dropped"})


def detail_words(words: list[str], prefix: str = "") -> dict[str, str]:
    """Key/value words of a link or `-d` detail line; flags get "", `<A,B>` becomes `flags` = "A,B",
    and `srcport A B` (or the old vxlan `port A B`) keeps both values."""
    out: dict[str, str] = {}
    flags = KIND_FLAGS.get(prefix, frozenset())
    i = 0
    while i < len(words):
        word = words[i]
        key = word if (not prefix or word in GENERIC_KEYS) else f"{prefix}.{word}"
        if (word in TWO_VALUES or (prefix == "vxlan" and word == "port")) and i + 2 < len(words):
            out[key] = f"{words[i + 1]} {words[i + 2]}"
            i += 3
        elif word.startswith("<") and word.endswith(">"):
            out[f"{prefix}.flags" if prefix else "flags"] = word[1:-1]
            i += 1
        elif word in flags or i + 1 >= len(words):
            out[key] = ""
            i += 1
        else:
            out[key] = words[i + 1]
            i += 2
    return out


def _vxlan(details: dict[str, str], ln: int, file: str) -> VxlanInfo:
    local = details.get("vxlan.local")
    dstport = details.get("vxlan.dstport")
    return VxlanInfo(
        vni=int(details["vxlan.id"]),
        local=ip_address(local) if local and local != "any" else None,
        dev=details.get("vxlan.dev"),
        dstport=int(dstport) if dstport else None,
        learning="vxlan.nolearning" not in details,
        src=Provenance(file=file, line=ln),
    )


def _address(family: str, words: list[str], line: str, ln: int, file: str) -> IfAddress:
    if not words:
        raise LineError(f"{family} without an address")
    values: dict[str, str] = {}
    flags: list[str] = []
    extra: dict[str, str] = {}
    label: str | None = None
    i = 1
    while i < len(words):
        word = words[i]
        if word in ADDR_PAIRS and i + 1 < len(words):
            values[word] = words[i + 1]
            i += 2
            continue
        if word in ADDR_FLAGS:
            flags.append(word)
        elif family == "inet" and i == len(words) - 1:
            label = word
        else:
            extra[word] = ""
        i += 1
    for key in ("metric", "proto"):
        if key in values:
            extra[key] = values[key]
    try:
        brd = values.get("brd")
        return IfAddress(
            src=Provenance(file=file, line=ln), raw=line, address=ip_interface(words[0]),
            peer=ip_interface(values["peer"]) if "peer" in values else None, scope=values.get("scope"),
            secondary="secondary" in flags, label=values.get("label", label),
            broadcast=IPv4Address(brd) if brd and family == "inet" else None,
            flags=[f for f in flags if f != "secondary"], extra=extra,
        )
    except (ValueError, ValidationError) as exc:
        raise LineError(str(exc).splitlines()[0]) from exc


class _LinkBuilder:
    """Collects one link's fields while its sub-lines are read."""

    def __init__(self, rec: dict[str, Any], lines: list[str], file: str, notes: list[str]) -> None:
        self.ln = int(rec["ln"])
        self.file = file
        self.lines = lines
        self.notes = notes
        self.consumed: set[int] = {self.ln}
        name, _, peer = str(rec["ifname"]).partition("@")
        self.fields: dict[str, Any] = {
            "name": name, "index": int(rec["index"]), "link": peer if peer and peer != "NONE" else None,
            "flags": [f for f in str(rec["flag_word"])[1:-1].split(",") if f],
        }
        self.details: dict[str, str] = {}
        if peer == "NONE":
            self.details["link"] = "NONE"
        self.addresses: list[IfAddress] = []
        self.counters: dict[str, int] = {}
        self.counter_ln: int | None = None
        self.pending_header: tuple[int, list[str]] | None = None
        head = detail_words(str(rec.get("rest", "")).split())
        if head.pop("oneline", None) is not None:  # a link rebuilt from `ip -o addr` lines
            self.details["flags"] = "not shown"
        for key, target in (("mtu", "mtu"), ("master", "master"), ("state", "state")):
            if key in head:
                self.fields[target] = head.pop(key)
        self.details.update(head)

    def sub(self, sub: dict[str, Any]) -> None:
        ln = int(sub["sub_ln"])
        line = self.lines[ln - 1]
        if not line[:1].isspace():
            return  # a line at column 0 is not part of this link
        try:
            if self._sub(sub, ln, line):
                self.consumed.add(ln)
        except (LineError, ValueError, KeyError, ValidationError) as exc:
            self.notes.append(f"line {ln}: {str(exc).splitlines()[0]}")

    def _sub(self, sub: dict[str, Any], ln: int, line: str) -> bool:
        if "nums" in sub:
            return self._numbers(str(sub["nums"]).split(), ln)
        word = str(sub["word"])
        words = str(sub.get("sub_rest", "")).split()
        if word.startswith("link/"):
            self.details["link_type"] = word[5:]
            if words and words[0] not in GENERIC_KEYS:
                if MAC.match(words[0]):
                    self.fields["mac"] = words[0].lower()
                else:
                    self.details["link_addr"] = words[0]
                words = words[1:]
            self.details.update(detail_words(words))
        elif word in ("inet", "inet6"):
            self.addresses.append(_address(word, words, line, ln, self.file))
        elif word == "valid_lft":
            if not self.addresses:
                return False
            lft = detail_words(["valid_lft", *words])
            self.addresses[-1].extra.update(lft)
        elif word in ("altname", "alias"):
            old = self.details.get(word)
            self.details[word] = " ".join(filter(None, (old, *words)))
        elif word in ("RX:", "TX:") or (word in ("RX", "TX") and words[:1] == ["errors:"]):
            names = words[1:] if word in ("RX", "TX") else words
            prefix = word.rstrip(":").lower() + ("_errors" if word in ("RX", "TX") else "")
            self.pending_header = (ln, [f"{prefix}_{n.rstrip(':')}" for n in names])
            return False  # consumed with the number row under it
        elif word in KINDS and "kind" not in self.fields:
            kind_details = detail_words(words, word)
            if word == "vxlan":
                self.fields["vxlan"] = _vxlan(kind_details, ln, self.file)
            self.fields["kind"] = word
            self.details.update(kind_details)
        elif word.endswith("_slave"):
            self.details["slave_kind"] = word
            self.details.update(detail_words(words, word))
        else:
            self.details.update(detail_words(words, word) or {word: ""})
        return True

    def _numbers(self, values: list[str], ln: int) -> bool:
        if self.pending_header is None:
            return False
        header_ln, names = self.pending_header
        self.pending_header = None
        if ln != header_ln + 1:
            return False  # a number row belongs to the header right above it
        if len(values) != len(names):
            raise LineError(f"{len(values)} counters under a header of {len(names)} names")
        for name, value in zip(names, values, strict=True):
            field = name if name.split("_", 1)[1] in COUNTER_FIELDS else None
            if field:
                self.counters[field] = int(value)
            else:
                self.details[name] = value
        self.consumed.add(header_ln)
        if self.counter_ln is None:
            self.counter_ln = header_ln
        return True

    def build(self, raw: str) -> Interface:
        counters = None
        if self.counter_ln is not None:
            counters = Counters(src=Provenance(file=self.file, line=self.counter_ln), **self.counters)
        return Interface(src=Provenance(file=self.file, line=self.ln), raw=raw, addresses=self.addresses,
                         counters=counters, details=self.details, **self.fields)


def parse_links(text: str, file: str, source: str, template: str) -> Parsed[Interface]:
    """Parse `ip [-d] [-s] address|link` output with `template`; never raises."""
    try:
        return _parse_links(text, file, source, template)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # hostile input must never escape as a traceback
        return left_unparsed(Parsed[Interface](source=source, file=file), text, exc)


_WARNING = re.compile(r"^(?:Warning|Error|RTNETLINK answers|Database \S+ is corrupted|Cannot |Device \S+ does not)")
_ONELINE_ADDR = re.compile(r"^(\d+):\s+(\S+?)\s+(inet6?|link/\S+)\s")
_STANDALONE = re.compile(r"^(?:\d+: |    \S|       valid_lft|\s+\d+(?:\s+\d+)+\s*$)")


def _pasted_form(lines: list[str], notes: list[str]) -> tuple[list[str], list[int], set[int]]:
    """The lines in `ip [-d] [-s] address|link` form, the pasted line each came from, and the pasted lines
    that are understood as they are (warnings, prompt lines, fences); see the module docstring."""
    paste = paste_lines(lines)
    out: list[str] = []
    origin: list[int] = []
    known: set[int] = set(paste)
    seen_output = False
    lengths = [len(line) for line in lines]
    width = max(lengths, default=0)
    wrapped = width > 40
    oneline_index: str | None = None
    last = 0  # the pasted line `out[-1]` ends on
    for ln, line in enumerate(lines, start=1):
        if ln in paste:
            continue
        if not seen_output and _WARNING.match(line):
            known.add(ln)
            notes.append(f"line {ln}: the tool printed before its output: {line.strip()[:120]}")
            continue
        seen_output = seen_output or bool(line.strip())
        m = _ONELINE_ADDR.match(line)
        if m and not LINK_LINE.match(line):  # `ip -o addr`: INDEX: NAME    inet ADDR ... \ valid_lft ...
            index, name = m.group(1), m.group(2)
            if index != oneline_index:
                out.append(f"{index}: {name}: <> oneline")
                origin.append(ln)
                oneline_index = index
            body = line[m.start(3):]
            for part in body.split("\\"):
                if part.strip():
                    out.append("    " + part.strip() if not part.strip().startswith("valid_lft") else
                               "       " + part.strip())
                    origin.append(ln)
            continue
        oneline_index = None
        if LINK_LINE.match(line) and "\\" in line:  # `ip -o link`
            head, *subs = line.split("\\")
            out.append(head.rstrip())
            origin.append(ln)
            for part in subs:
                out.append("    " + part.strip())
                origin.append(ln)
            continue
        if wrapped and out and len(lines[ln - 2]) == width and last == ln - 1 and line and \
                (not line.strip() or not _STANDALONE.match(line)):
            out[-1] += line
            notes.append(f"line {ln}: the wrapped tail of line {origin[-1]}; joined to it")
            known.add(ln)
            last = ln
            continue
        out.append(line)
        origin.append(ln)
        last = ln
    return out, origin, known


def _moved(iface: Interface, origin: list[int], pasted: list[str]) -> Interface:
    """`iface` with its provenance lines (those of the rebuilt form) turned into the pasted lines."""
    def at(src: Provenance) -> Provenance:
        return src._replace(line=origin[src.line - 1]) if 0 < src.line <= len(origin) else src
    src = at(iface.src)
    update: dict[str, Any] = {"src": src, "raw": pasted[src.line - 1] if 0 < src.line <= len(pasted) else iface.raw,
                              "addresses": [a.model_copy(update={"src": at(a.src)}) for a in iface.addresses]}
    if iface.vxlan is not None:
        update["vxlan"] = iface.vxlan.model_copy(update={"src": at(iface.vxlan.src)})
    if iface.counters is not None:
        update["counters"] = iface.counters.model_copy(update={"src": at(iface.counters.src)})
    return iface.model_copy(update=update)


def _parse_links(text: str, file: str, source: str, template: str) -> Parsed[Interface]:
    result: Parsed[Interface] = Parsed[Interface](source=source, file=file)
    pasted = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    form, origin, known = _pasted_form(pasted, result.notes)
    identity = len(form) == len(pasted) and not known
    records, _, lines = run_template(template, "\n".join(form) if not identity else text, "links")
    column0 = [i for i, line in enumerate(lines, start=1) if line.strip() and not line[:1].isspace()]
    consumed: set[int] = set()
    for rec in records:
        ln = int(rec["ln"])
        try:
            builder = _LinkBuilder(rec, lines, file, result.notes)
            after = bisect_right(column0, ln)
            end = column0[after] if after < len(column0) else len(lines) + 1
            for sub in rec.get("subs", []):
                if int(sub["sub_ln"]) < end:  # a link owns only the indented lines up to the next line at column 0
                    builder.sub(sub)
            result.items.append(builder.build(lines[ln - 1]))
        except ValidationError as exc:
            err = exc.errors()[0]
            result.notes.append(f"line {ln}: {'.'.join(map(str, err['loc']))}: {err['msg']}")
            continue
        except ValueError as exc:
            result.notes.append(f"line {ln}: {str(exc).splitlines()[0]}")
            continue
        consumed |= builder.consumed
    result.expected = sum(1 for line in lines if LINK_LINE.match(line))
    unparsed = unparsed_lines(lines, consumed)
    if any(i.details.get("flags") == "not shown" for i in result.items):
        result.notes.append("one-line address output (ip -o addr): flags, state and MTU are not shown")
    if source == "ip_link_stats":
        for iface in result.items:
            if iface.counters is None:
                result.notes.append(f"line {iface.src.line}: {iface.name}: no counters read (ip -s link shows RX/TX)")
    if len(result.items) != result.expected:
        result.notes.append(f"{result.expected} link lines, {len(result.items)} interfaces parsed")
    if not identity:
        result.items = [_moved(i, origin, pasted) for i in result.items]
        lines_out = {origin[u.line - 1] for u in unparsed if u.line <= len(origin)}
        result.unparsed = [UnparsedLine(line=ln, text=pasted[ln - 1]) for ln in sorted(lines_out)]
        result.notes = [_note_line(n, origin) for n in result.notes]
    else:
        result.unparsed = unparsed
    return result


def _note_line(note: str, origin: list[int]) -> str:
    """A note's `line N:` turned into the pasted line (wrap notes already name pasted lines)."""
    m = re.match(r"line (\d+): ", note)
    if m is None or "wrapped tail" in note or "printed before" in note or not 0 < int(m.group(1)) <= len(origin):
        return note
    return f"line {origin[int(m.group(1)) - 1]}: {note[m.end():]}"


def parse(text: str, file: str) -> Parsed[Interface]:
    """Parse `ip -d address` or `ip -d link show`; never raises."""
    return parse_links(text, file, SOURCE, "ip_addr")
