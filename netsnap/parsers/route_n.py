"""`route -n`, `route`, `netstat -rn`, `netstat -r` (net-tools, busybox; `-e`/`-ee`) -> Parsed[Route], "route-n".

Every data row becomes one Route in the main table, duplicates included (two identical rows are
two routes: that is the finding in incident B). `dst` is Destination/Genmask; a destination with
host bits set still parses (to its network) with a note. Gateway `0.0.0.0`, `*` or `-` means none;
a `!` flag (reject) makes the route type "unreachable". `expected` is the number of non-blank lines
that are neither the title nor a column header, so any row the parser could not read shows up as a
difference between `expected` and `len(items)`.

Without `-n` the tools print names: `default` (0.0.0.0) and the `/etc/networks` names every host ships
(`link-local`) are turned back into addresses (resolver_names.py); a gateway name (`_gateway`,
`gateway`, a host name) keeps the route, with gateway None, `extra["gateway"]` = the name and
`extra["gateway_address"]` = "unknown" and a note (its address is not in the paste); a destination that
is a host name leaves its row unparsed. `netstat -r` (and `route -e`) print MSS, Window and irtt where
`route` prints Metric: the columns follow the column header, else the pasted prompt line (`netstat`),
else route's; without a Metric column the metric is 0 with `extra["metric"]` = "not shown" and a note.
A pasted prompt line and markdown fences are understood.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network

from netsnap.bundle.paste import scan
from netsnap.model.base import Parsed, Provenance
from netsnap.model.routes import Route
from netsnap.model.unchecked import slim_record
from netsnap.parsers import resolver_names
from netsnap.parsers.ipv4 import address as ipv4_address
from netsnap.parsers.ipv4 import network as ipv4_network
from netsnap.parsers.records import LineError, account, never_raises, read_records
from netsnap.parsers.ttp_runner import run_template

SOURCE = "route_n"
TITLE_PREFIXES = ("Kernel IP routing table",)
DEFAULT_COLUMNS: tuple[str, ...] = ("Metric", "Ref", "Use", "Iface")
NETSTAT_COLUMNS: tuple[str, ...] = ("MSS", "Window", "irtt", "Iface")
ANY = IPv4Address(0)
_NAME = re.compile(r"(?=.*[A-Za-z_])[A-Za-z0-9_][\w.-]*")
KEPT_EXTRA = {"MSS": "mss", "Window": "window", "irtt": "irtt"}
_MASK_PREFIX = {str(IPv4Network((0, p)).netmask): p for p in range(33)}  # the contiguous genmasks


def _gateway(text: str) -> IPv4Address | None:
    if text in ("*", "-"):
        return None
    gateway = IPv4Address(text)
    return None if gateway == ANY else gateway


def _destination(text: str) -> str:
    """`default` -> 0.0.0.0, `link-local` -> 169.254.0.0 (names every host's /etc/networks has)."""
    if text == resolver_names.DEFAULT:
        return str(ANY)
    return resolver_names.NETWORKS.get(text, text)


def _destination_net(dest: str, mask: str, ln: int, notes: list[str]) -> IPv4Network:
    """Destination/Genmask as a network, noting host bits set; LineError when it is not one. A dotted
    quad with a contiguous genmask (every real row) skips the stdlib's parse (measured ~3x faster)."""
    plen = _MASK_PREFIX.get(mask)
    dst = ipv4_network(f"{dest}/{plen}") if plen is not None else None
    given = ipv4_address(dest) if dst is not None else None
    if dst is None or given is None:
        try:
            dst, given = IPv4Network(f"{dest}/{mask}", strict=False), IPv4Address(dest)
        except ValueError as exc:
            if _NAME.fullmatch(dest):
                raise LineError(f"line {ln}: destination {dest} is a name: its address is not in the paste") from exc
            raise LineError(f"line {ln}: bad destination or genmask ({exc})") from exc
    if dst.network_address != given:
        notes.append(f"line {ln}: destination {dest} has host bits set for genmask {mask}; read as {dst}")
    return dst


def _row_to_route(rec: dict[str, str], columns: tuple[str, ...], line: str, file: str,
                  notes: list[str]) -> Route:
    ln = int(rec["ln"])
    dest = _destination(rec["dest"])
    dst = _destination_net(dest, rec["mask"], ln, notes)
    named: dict[str, str] = {}
    try:
        gateway = _gateway(rec["gw"])
    except ValueError as exc:
        if not _NAME.fullmatch(rec["gw"]):
            raise LineError(f"line {ln}: bad gateway {rec['gw']!r}") from exc
        gateway = None
        named = {"gateway": rec["gw"], "gateway_address": "unknown"}
        notes.append(f"line {ln}: gateway {rec['gw']} is a name (route without -n): its address is not in "
                     "the paste")
    values = rec["cols"].split()
    if len(values) != len(columns):
        raise LineError(f"line {ln}: {len(values)} trailing columns, the header has {len(columns)}")
    by_name = dict(zip(columns, values, strict=True))
    metric_text = by_name.get("Metric", "0")
    if not metric_text.isdigit():
        raise LineError(f"line {ln}: metric {metric_text!r} is not a number")
    dev = by_name.get("Iface")
    flags = rec["flag_word"]
    extra = {KEPT_EXTRA[k]: v for k, v in by_name.items() if k in KEPT_EXTRA and v not in ("0", "-")}
    extra.update(named)
    if "Metric" not in by_name:
        extra["metric"] = "not shown"
    # every value already has its field's type (checked above): built unvalidated, as pydantic would
    # (tests/parsers/test_route_n_unchecked.py compares it with the validated model); ~25 us a route less
    return slim_record(Route, {
        "src": Provenance(file, ln), "raw": line, "origin": "route-n", "table": "main",
        "type": "unreachable" if "!" in flags else "unicast", "dst": dst, "gateway": gateway,
        "dev": None if dev in (None, "-", "*") else dev, "proto": None, "scope": None, "prefsrc": None,
        "metric": int(metric_text), "onlink": False, "linkdown": False, "dead": False, "flags": flags,
        "nexthops": [], "extra": extra,
    })


# The template's data row (templates/route_n.ttp) for a dotted-quad destination written with spaces only,
# no leading or trailing blank; any other line goes through TTP itself (a test checks both agree).
_ROW = re.compile(r"([0-9]+(?:\.[0-9]+){3}) +(\S+) +(\S+) +(\S+) +(\S+(?: +\S+)*)")


def read_rows(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """(the template's records, the lines as ttp_runner numbers them). The common data row is read with
    the template's own pattern in Python (measured: TTP was ~40% of the parse); the rest by TTP."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    records: list[dict[str, str]] = []
    rest: list[int] = []  # indexes of the lines left to TTP
    for i, line in enumerate(lines):
        m = _ROW.fullmatch(line) if line[:1].isdigit() else None
        if m is not None:
            records.append({"ln": str(i + 1), "dest": m.group(1), "gw": m.group(2), "mask": m.group(3),
                            "flag_word": m.group(4), "cols": m.group(5)})
        elif line.strip():
            rest.append(i)
    if rest:
        found, _, _ = run_template(SOURCE, "\n".join(lines[i] for i in rest), "rows")
        for rec in found:
            rec["ln"] = str(rest[int(rec["ln"]) - 1] + 1)
            records.append(rec)
    return records, lines


def _columns(hdr_cols: str) -> tuple[str, ...] | None:
    """Trailing column names after Destination Gateway Genmask Flags, or None if not a header."""
    words = hdr_cols.split()
    if words[:2] != ["Gateway", "Genmask"] or len(words) < 4 or words[2] != "Flags":
        return None
    return tuple(words[3:])


@never_raises(Parsed[Route], SOURCE)
def parse(text: str, file: str) -> Parsed[Route]:
    """Parse `route -n` output; never raises."""
    result: Parsed[Route] = Parsed[Route](source=SOURCE, file=file)
    records, lines = read_rows(text)
    header_at: dict[int, tuple[str, ...]] = {}
    rows_by_ln: dict[int, dict[str, str]] = {}
    for rec in records:
        if "hdr_cols" in rec:
            cols = _columns(rec["hdr_cols"])
            if cols is not None:
                header_at[int(rec["ln"])] = cols
        elif "dest" in rec:
            rows_by_ln[int(rec["ln"])] = rec
    commands, noise = scan(lines)
    columns = DEFAULT_COLUMNS
    columns_at: dict[int, tuple[str, ...]] = {}  # each data row's line -> the columns of the header above it
    guessed = False
    for i, line in enumerate(lines, start=1):
        stripped = line.strip()
        if i in commands:
            columns = NETSTAT_COLUMNS if commands[i].tool == "netstat" or commands[i].has("-e") else DEFAULT_COLUMNS
        elif i in header_at:
            columns = header_at[i]
            guessed = True
        elif stripped and i not in noise and not stripped.startswith(TITLE_PREFIXES):
            if not guessed and not commands:
                result.notes.append(f"line {i}: no column header: the columns are read as route -n's "
                                    "(Metric Ref Use Iface), not netstat -rn's (MSS Window irtt Iface)")
            guessed = True
            columns_at[i] = columns
    rows = [rows_by_ln[i] for i in columns_at if i in rows_by_ln]
    consumed = set(header_at) | set(commands) | noise | read_records(
        result, rows, lines, lambda rec, line: _row_to_route(rec, columns_at[int(rec["ln"])], line, file, result.notes)
    )
    if any(r.extra.get("metric") == "not shown" for r in result.items):
        result.notes.append("no Metric column (netstat -r, route -e): metrics are not shown and read as 0")
    return account(result, lines, consumed, len(columns_at), "data rows", "routes", TITLE_PREFIXES)

