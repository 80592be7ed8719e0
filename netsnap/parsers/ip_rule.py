"""`ip rule` -> Parsed[PolicyRule].

Selectors: `[not] from A|all [to B|all] [iif I [detached]] [oif O [detached]] [fwmark M[/N]]`
and others (`tos`, `uidrange`, `ipproto`, `sport`, `dport`, `proto`, `suppress_prefixlength`, ...)
into `extra`; actions `lookup T`, `goto N` (target in extra["goto"]), `blackhole`, `unreachable`,
`prohibit`, `nop`; a rule with no action word (old `from all to 1.2.3.4 map-to ...`) keeps the
default. `from all` is `from_net=None`. `expected` is the number of non-blank lines.
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import Literal, cast

from pydantic import ValidationError

from netsnap.model.base import Parsed, Provenance
from netsnap.model.routes import IPNetwork, PolicyRule
from netsnap.parsers.records import LineError, account, counted_lines, never_raises, read_records
from netsnap.parsers.ttp_runner import run_template

SOURCE = "ip_rule"
Action = Literal["lookup", "goto", "blackhole", "unreachable", "prohibit", "nop"]
BARE_ACTIONS: frozenset[str] = frozenset({"blackhole", "unreachable", "prohibit", "nop"})
FLAG_WORDS: frozenset[str] = frozenset({"l3mdev", "protocol"})


def _net(text: str) -> IPNetwork | None:
    return None if text == "all" else ip_network(text, strict=False)


def _rule(rec: dict[str, str], line: str, file: str) -> PolicyRule:
    ln = int(rec["ln"])
    words = rec["rest"].split()
    fields: dict[str, object] = {"priority": int(rec["prio"])}
    extra: dict[str, str] = {}
    action: Action = "lookup"
    table: str | None = None
    i = 0
    try:
        while i < len(words):
            word = words[i]
            nxt = words[i + 1] if i + 1 < len(words) else None
            if word == "not":
                fields["invert"] = True
                i += 1
            elif word in ("from", "to") and nxt is not None:
                fields["from_net" if word == "from" else "to_net"] = _net(nxt)
                i += 2
            elif word in ("iif", "oif", "fwmark") and nxt is not None:
                fields[word] = nxt
                i += 2
            elif word == "[detached]":
                extra["detached"] = " ".join(filter(None, (extra.get("detached"), words[i - 2] if i >= 2 else "")))
                i += 1
            elif word in ("lookup", "table") and nxt is not None:
                action, table = "lookup", nxt
                i += 2
            elif word == "goto" and nxt is not None:
                action = "goto"
                extra["goto"] = nxt
                i += 2
            elif word in BARE_ACTIONS:
                action = cast(Action, word)
                i += 1
            elif word in FLAG_WORDS or nxt is None:
                extra[word] = ""
                i += 1
            else:
                extra[word] = nxt
                i += 2
        return PolicyRule(src=Provenance(file=file, line=ln), raw=line, action=action, table=table, extra=extra,
                          **fields)
    except (ValueError, ValidationError) as exc:
        raise LineError(f"line {ln}: {str(exc).splitlines()[0]}") from exc


@never_raises(Parsed[PolicyRule], SOURCE)
def parse(text: str, file: str) -> Parsed[PolicyRule]:
    """Parse `ip rule` output; never raises."""
    result: Parsed[PolicyRule] = Parsed[PolicyRule](source=SOURCE, file=file)
    records, _, lines = run_template(SOURCE, text, "rules")
    consumed = read_records(result, records, lines, lambda rec, line: _rule(rec, line, file))
    return account(result, lines, consumed, counted_lines(lines), "rule lines", "rules")
