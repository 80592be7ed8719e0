"""`ip neigh show` -> Parsed[Neighbour].

Words: `dev X`, `lladdr M`, `router`, NUD states in capitals (several may appear, e.g. `DELAY
PROBE`), and the rest into `extra` (`proxy`, `extern_learn`, `offload`, `ref N`, `used A/B/C`,
`probes N`, `proto P`). A truncated `lladdr` makes the line unparsed. `expected` is the number of non-blank lines.
"""

from __future__ import annotations

import re
from ipaddress import ip_address

from pydantic import ValidationError

from netsnap.model.base import Parsed, Provenance
from netsnap.model.neighbours import Neighbour
from netsnap.parsers.records import LineError, account, counted_lines, never_raises, read_records
from netsnap.parsers.ttp_runner import run_template

SOURCE = "ip_neigh"
STATES: frozenset[str] = frozenset(
    {"PERMANENT", "NOARP", "REACHABLE", "STALE", "NONE", "INCOMPLETE", "DELAY", "PROBE", "FAILED"}
)
PAIRS: frozenset[str] = frozenset({"dev", "lladdr", "ref", "used", "probes", "proto", "protocol", "nud", "vrf"})
# a link-layer address: hex octets (Ethernet, InfiniBand) or an IPv4 address (ipip/gre neighbours)
LLADDR = re.compile(r"^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5,}|\d{1,3}(?:\.\d{1,3}){3})$")


def _neighbour(rec: dict[str, str], line: str, file: str) -> Neighbour:
    ln = int(rec["ln"])
    words = rec.get("rest", "").split()
    values: dict[str, str] = {}
    states: list[str] = []
    extra: dict[str, str] = {}
    router = False
    i = 0
    while i < len(words):
        word = words[i]
        if word in PAIRS and i + 1 < len(words):
            (values if word in ("dev", "lladdr") else extra)[word] = words[i + 1]
            i += 2
            continue
        if word in STATES:
            states.append(word)
        elif word == "router":
            router = True
        else:
            extra[word] = ""
        i += 1
    lladdr = values.get("lladdr")
    if lladdr is not None and not LLADDR.match(lladdr):
        raise LineError(f"line {ln}: lladdr {lladdr!r} is not a link-layer address")
    try:
        return Neighbour(src=Provenance(file=file, line=ln), raw=line, address=ip_address(rec["addr"].split("%")[0]),
                         dev=values.get("dev"), lladdr=lladdr, router=router, states=states,
                         extra=extra)
    except (ValueError, ValidationError) as exc:
        raise LineError(f"line {ln}: {str(exc).splitlines()[0]}") from exc


@never_raises(Parsed[Neighbour], SOURCE)
def parse(text: str, file: str) -> Parsed[Neighbour]:
    """Parse `ip neigh show`; never raises."""
    result: Parsed[Neighbour] = Parsed[Neighbour](source=SOURCE, file=file)
    records, _, lines = run_template(SOURCE, text, "neighbours")
    consumed = read_records(result, records, lines, lambda rec, line: _neighbour(rec, line, file))
    return account(result, lines, consumed, counted_lines(lines), "neighbour lines", "entries")
