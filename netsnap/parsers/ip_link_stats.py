"""`ip -s link` (also `-s -s`, `-s -d`) -> Parsed[Interface] with `counters`.

The link and detail lines are read as for ip_addr (shared `parse_links`). Each `RX:`/`TX:` header
names the columns of the number row under it, in both iproute2 layouts (old `bytes packets errors
dropped overrun mcast`, new `bytes packets errors dropped missed mcast`): bytes, packets, errors
and dropped go to Counters; the other columns (`rx_overrun`, `rx_missed`, `tx_carrier`,
`rx_errors_crc` from `-s -s`, ...) to `details`. `expected` is the number of link lines.
"""

from __future__ import annotations

from netsnap.model.base import Parsed
from netsnap.model.interfaces import Interface
from netsnap.parsers.ip_addr import parse_links

SOURCE = "ip_link_stats"


def parse(text: str, file: str) -> Parsed[Interface]:
    """Parse `ip -s link`; never raises."""
    return parse_links(text, file, SOURCE, "ip_link_stats")
