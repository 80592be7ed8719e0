"""flannel's network config (`net-conf.json` / the etcd `<prefix>/config` value).

Read with the `json` module, not TTP: the file is JSON, may be pretty-printed or on one line, and
a line template cannot follow nested objects. Invalid JSON or values that do not validate become
unparsed lines with a note naming the problem; `parse` never raises. Provenance: the line of the
`"Network"` key (else `"Port"`, else `"Backend"`, else 0 = whole file). The whole document is kept in
`raw`.
"""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Network
from typing import Any

from netsnap.model.base import Parsed, Provenance
from netsnap.model.flannel import NetConf
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import unparsed_lines

SOURCE = "net_conf"
_KEY_LINE = ("Network", "Port", "Backend")


def _line_of(lines: list[str], key: str) -> int:
    pat = re.compile(rf'"{key}"\s*:')
    for i, line in enumerate(lines, 1):
        if pat.search(line):
            return i
    return 0


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"not an integer: {value!r}")


@never_raises(Parsed[NetConf], SOURCE)
def parse(text: str, file: str) -> Parsed[NetConf]:
    """Parse net-conf.json into one NetConf; never raises."""
    result: Parsed[NetConf] = Parsed(source=SOURCE, file=file, expected=1)
    clean = text.replace("\x00", "")
    lines = clean.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not clean.strip():
        result.expected = None
        return result
    try:
        doc = json.loads(clean)
    except (ValueError, RecursionError) as exc:
        result.notes.append(f"{file}: invalid JSON: {exc}")
        result.unparsed = unparsed_lines(lines, set())
        return result
    if not isinstance(doc, dict):
        result.notes.append(f"{file}: JSON is a {type(doc).__name__}, not an object")
        result.unparsed = unparsed_lines(lines, set())
        return result
    line = next((n for n in (_line_of(lines, k) for k in _KEY_LINE) if n), 0)
    try:
        backend = doc.get("Backend") or {}
        if not isinstance(backend, dict):
            raise ValueError("Backend is not an object")
        network = doc.get("Network")
        conf = NetConf(
            network=IPv4Network(network, strict=False) if network else None,
            subnet_len=_as_int(doc.get("SubnetLen")),
            backend_type=str(backend.get("Type") or "vxlan"),
            vni=_as_int(backend.get("VNI")),
            port=_as_int(backend.get("Port")),
            mtu=_as_int(backend.get("MTU")),
            direct_routing=bool(backend.get("DirectRouting", False)),
            raw=doc,
            src=Provenance(file=file, line=line),
        )
    except (ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        result.notes.append(f"{file}: invalid network config: {first}")
        result.unparsed = unparsed_lines(lines, set())
        return result
    result.items.append(conf)
    return result
