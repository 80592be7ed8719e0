"""`bridge fdb show` -> Parsed[FdbEntry].

Pairs: `dev`, `dst` (VXLAN peer VTEP), `vlan`, `master` go to fields; `port`, `vni`, `src_vni`,
`via`, `nhid`, `used`, `updated` to `extra`. Everything else is a flag (`self`, `permanent`,
`static`, `offload`, `extern_learn`, `router`, `sticky`, ...), kept in order. `expected` is the
number of non-blank lines.

`bridge fdb show dev flannel.1` prints no `dev` column: the device is taken from the pasted prompt line
above (`dev X`, or `br X` for the master); without one such entries keep `dev` None and a note says
their device is not shown.
"""

from __future__ import annotations

from ipaddress import ip_address

from pydantic import ValidationError

from netsnap.bundle.paste import scan
from netsnap.model.base import Parsed, Provenance
from netsnap.model.neighbours import FdbEntry
from netsnap.parsers.records import LineError, account, counted_lines, never_raises, read_records
from netsnap.parsers.ttp_runner import run_template

SOURCE = "bridge_fdb"
FIELD_PAIRS: frozenset[str] = frozenset({"dev", "dst", "vlan", "master"})
EXTRA_PAIRS: frozenset[str] = frozenset({"port", "vni", "src_vni", "via", "nhid", "used", "updated", "state"})


def _entry(rec: dict[str, str], line: str, file: str, shown: dict[str, str]) -> FdbEntry:
    ln = int(rec["ln"])
    words = rec.get("rest", "").split()
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    flags: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in FIELD_PAIRS | EXTRA_PAIRS and i + 1 < len(words):
            (values if word in FIELD_PAIRS else extra)[word] = words[i + 1]
            i += 2
            continue
        flags.append(word)
        i += 1
    for key, value in shown.items():  # `bridge fdb show dev X`: the filter's value is not printed
        values.setdefault(key, value)
    try:
        return FdbEntry(
            src=Provenance(file=file, line=ln), raw=line, mac=rec["mac"].lower(), dev=values.get("dev"),
            dst=ip_address(values["dst"]) if "dst" in values else None,
            vlan=int(values["vlan"]) if "vlan" in values else None, master=values.get("master"), flags=flags,
            extra=extra,
        )
    except (ValueError, ValidationError) as exc:
        raise LineError(f"line {ln}: {str(exc).splitlines()[0]}") from exc


@never_raises(Parsed[FdbEntry], SOURCE)
def parse(text: str, file: str) -> Parsed[FdbEntry]:
    """Parse `bridge fdb show`; never raises."""
    result: Parsed[FdbEntry] = Parsed[FdbEntry](source=SOURCE, file=file)
    records, _, lines = run_template(SOURCE, text, "entries")
    commands, _noise = scan(lines)
    filters: list[tuple[int, dict[str, str]]] = []
    for ln, cmd in sorted(commands.items()):
        shown = {key: value for key, opt in (("dev", "dev"), ("master", "br"))
                 if (value := _word_after(cmd.words, opt))}
        filters.append((ln, shown))

    def build(rec: dict[str, str], line: str) -> FdbEntry:
        ln = int(rec["ln"])
        shown = next((f for at, f in reversed(filters) if at < ln), {})
        return _entry(rec, line, file, shown)

    consumed = read_records(result, records, lines, build)
    if any(e.dev is None and e.master is None for e in result.items):
        result.notes.append("entries without a dev column (bridge fdb show dev X) and no prompt naming X: "
                            "their device is not shown")
    return account(result, lines, consumed, counted_lines(lines), "fdb lines", "entries")


def _word_after(words: tuple[str, ...], key: str) -> str | None:
    for i, word in enumerate(words[:-1]):
        if word == key:
            return words[i + 1]
    return None
