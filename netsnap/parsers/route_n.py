"""`route -n` (net-tools and busybox, also `-ne`/`-nee`) -> Parsed[Route] with origin "route-n".

Every data row becomes one Route in the main table, duplicates included (two identical rows are
two routes: that is the finding in incident B). `dst` is Destination/Genmask; a destination with
host bits set still parses (to its network) with a note. Gateway `0.0.0.0`, `*` or `-` means none;
a `!` flag (reject) makes the route type "unreachable". `expected` is the number of non-blank lines
that are neither the title nor a column header, so any row the parser could not read shows up as a
difference between `expected` and `len(items)`.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from netsnap.model.base import Parsed, Provenance
from netsnap.model.routes import Route
from netsnap.parsers.records import LineError, account, never_raises, read_records, validated
from netsnap.parsers.ttp_runner import run_template

SOURCE = "route_n"
TITLE_PREFIXES = ("Kernel IP routing table",)
DEFAULT_COLUMNS: tuple[str, ...] = ("Metric", "Ref", "Use", "Iface")
ANY = IPv4Address(0)
KEPT_EXTRA = {"MSS": "mss", "Window": "window", "irtt": "irtt"}


def _gateway(text: str) -> IPv4Address | None:
    if text in ("*", "-"):
        return None
    gateway = IPv4Address(text)
    return None if gateway == ANY else gateway


def _row_to_route(rec: dict[str, str], columns: tuple[str, ...], line: str, file: str,
                  notes: list[str]) -> Route:
    ln = int(rec["ln"])
    dest = str(ANY) if rec["dest"] == "default" else rec["dest"]
    mask = rec["mask"]
    try:
        dst = IPv4Network(f"{dest}/{mask}", strict=False)
    except ValueError as exc:
        raise LineError(f"line {ln}: bad destination or genmask ({exc})") from exc
    if dst.network_address != IPv4Address(dest):
        notes.append(f"line {ln}: destination {dest} has host bits set for genmask {mask}; read as {dst}")
    try:
        gateway = _gateway(rec["gw"])
    except ValueError as exc:
        raise LineError(f"line {ln}: bad gateway {rec['gw']!r}") from exc
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
    return validated(ln, lambda: Route(
        src=Provenance(file=file, line=ln), raw=line, origin="route-n", table="main",
        type="unreachable" if "!" in flags else "unicast", dst=dst, gateway=gateway,
        dev=None if dev in (None, "-", "*") else dev, metric=int(metric_text), flags=flags, extra=extra,
    ))


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
    records, _, lines = run_template(SOURCE, text, "rows")
    header_at: dict[int, tuple[str, ...]] = {}
    rows_by_ln: dict[int, dict[str, str]] = {}
    for rec in records:
        if "hdr_cols" in rec:
            cols = _columns(rec["hdr_cols"])
            if cols is not None:
                header_at[int(rec["ln"])] = cols
        elif "dest" in rec:
            rows_by_ln[int(rec["ln"])] = rec
    columns = DEFAULT_COLUMNS
    columns_at: dict[int, tuple[str, ...]] = {}  # each data row's line -> the columns of the header above it
    for i, line in enumerate(lines, start=1):
        stripped = line.strip()
        if i in header_at:
            columns = header_at[i]
        elif stripped and not stripped.startswith(TITLE_PREFIXES):
            columns_at[i] = columns
    rows = [rows_by_ln[i] for i in columns_at if i in rows_by_ln]
    consumed = set(header_at) | read_records(
        result, rows, lines, lambda rec, line: _row_to_route(rec, columns_at[int(rec["ln"])], line, file, result.notes)
    )
    return account(result, lines, consumed, len(columns_at), "data rows", "routes", TITLE_PREFIXES)

