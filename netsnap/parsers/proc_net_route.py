"""`/proc/net/route` -> Parsed[Route] with origin "proc-net-route" (main table, IPv4 only).

Addresses and masks are 8 hex digits in the host's byte order. The byte order is decided per file
from the masks (a mask must be contiguous ones): little-endian (x86_64, aarch64) unless only the
big-endian reading gives valid masks (s390x, ppc64), which is noted. Flags are rendered as the
letters `route -n` prints (U G H R D M A C !) so both sources compare; RTF_REJECT makes the type
"unreachable". `expected` is the number of non-blank lines other than the header.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from netsnap.model.base import Parsed, Provenance
from netsnap.model.routes import Route
from netsnap.parsers.records import LineError, account, counted_lines, never_raises, read_records, validated
from netsnap.parsers.ttp_runner import run_template

SOURCE = "proc_net_route"
ByteOrder = Literal["little", "big"]
# (bit, letter) in the order net-tools prints them
FLAG_LETTERS: tuple[tuple[int, str], ...] = (
    (0x0001, "U"), (0x0002, "G"), (0x0004, "H"), (0x0008, "R"), (0x0010, "D"), (0x0020, "M"),
    (0x40000, "A"), (0x1000000, "C"), (0x0200, "!"),
)
RTF_REJECT = 0x0200
KEPT_EXTRA = ("mss", "window", "irtt")


def hex_to_ipv4(value: str, order: ByteOrder = "little") -> IPv4Address:
    """`0100A8C0` -> 192.168.0.1 (little-endian host)."""
    return IPv4Address(int(value, 16).to_bytes(4, "big")[::-1] if order == "little" else int(value, 16))


def flag_letters(flags: int) -> str:
    """RTF_* bits as `route -n` letters."""
    return "".join(letter for bit, letter in FLAG_LETTERS if flags & bit)


def _is_mask(addr: IPv4Address) -> bool:
    inverted = ~int(addr) & 0xFFFFFFFF
    return inverted & (inverted + 1) == 0


def _byte_order(masks: list[str]) -> ByteOrder:
    little = big = 0
    for m in masks:
        try:
            little += _is_mask(hex_to_ipv4(m, "little"))
            big += _is_mask(hex_to_ipv4(m, "big"))
        except ValueError:
            continue
    return "big" if big > little else "little"


def _row_to_route(rec: dict[str, str], order: ByteOrder, line: str, file: str, notes: list[str]) -> Route:
    ln = int(rec["ln"])
    cols = rec["cols"].split()
    if len(cols) != 7:
        raise LineError(f"line {ln}: {len(cols) + 4} columns, /proc/net/route has 11")
    _refcnt, _use, metric, mask_hex, *rest = cols
    try:
        dest = hex_to_ipv4(rec["dest_hex"], order)
        gateway = hex_to_ipv4(rec["gw_hex"], order)
        mask = hex_to_ipv4(mask_hex, order)
        flags = int(rec["flag_hex"], 16)
        dst = IPv4Network(f"{dest}/{mask}", strict=False)
        metric_value = int(metric)
    except ValueError as exc:
        raise LineError(f"line {ln}: bad value ({exc})") from exc
    if dst.network_address != dest:
        notes.append(f"line {ln}: destination {dest} has host bits set for mask {mask}; read as {dst}")
    extra = {k: v for k, v in zip(KEPT_EXTRA, rest, strict=True) if v != "0"}
    return validated(ln, lambda: Route(
        src=Provenance(file=file, line=ln), raw=line, origin="proc-net-route", table="main",
        type="unreachable" if flags & RTF_REJECT else "unicast", dst=dst,
        gateway=None if int(gateway) == 0 else gateway, dev=None if rec["iface"] == "*" else rec["iface"],
        metric=metric_value, flags=flag_letters(flags), extra=extra,
    ))


@never_raises(Parsed[Route], SOURCE)
def parse(text: str, file: str) -> Parsed[Route]:
    """Parse `/proc/net/route`; never raises."""
    result: Parsed[Route] = Parsed[Route](source=SOURCE, file=file)
    records, _, lines = run_template(SOURCE, text, "rows")
    headers = {int(r["ln"]) for r in records if "hdr_cols" in r and r["hdr_cols"].split()[:1] == ["Destination"]}
    rows = [r for r in records if "dest_hex" in r]
    masks = [c[3] for c in (r["cols"].split() for r in rows) if len(c) == 7]
    order = _byte_order(masks)
    if order == "big":
        result.notes.append("masks read as big-endian: the bundle comes from a big-endian host")
    consumed = headers | read_records(result, rows, lines,
                                      lambda rec, line: _row_to_route(rec, order, line, file, result.notes))
    expected = counted_lines(lines, skip=set(headers))
    return account(result, lines, consumed, expected, "data rows", "routes")
