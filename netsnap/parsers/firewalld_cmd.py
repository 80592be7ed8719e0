"""Read-only `firewall-cmd` answers -> FirewalldZone / FirewalldSetting records, via
templates/firewalld_cmd.ttp.

- `--list-all-zones`: one FirewalldZone per block (`public (active)`, `public (default, active)`),
  with its target, interfaces, sources, services, ports, protocols, forward, masquerade, forward and
  source ports, icmp blocks and rich rules (the tab-indented lines after `rich rules:`).
- `--get-active-zones`: one FirewalldZone per block with only its bindings (`bindings_only`).
- `--state`, `--get-default-zone`, `--get-log-denied`: one FirewalldSetting; its key comes from the
  file name (the parse signature has no source id): `...state` -> state, `...default-zone` ->
  default_zone, `...log-denied` -> log_denied. firewall-cmd's own errors (`FirewallD is not running`)
  are kept as the value when they are the whole answer.
"""

from __future__ import annotations

from typing import Any

from netsnap.model.base import Parsed, Provenance
from netsnap.model.firewalld import FirewalldSetting, FirewalldZone
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import run_template, unparsed_lines

SOURCE = "firewalld_zones"
TEMPLATE = "firewalld_cmd"
_LISTS = {"interfaces": "interfaces", "sources": "sources", "services": "services", "ports": "ports",
          "protocols": "protocols", "forward-ports": "forward_ports", "source-ports": "source_ports",
          "icmp-blocks": "icmp_blocks"}
_FLAGS = {"icmp-block-inversion": "icmp_block_inversion", "forward": "forward", "masquerade": "masquerade"}
_SETTING_KEYS = (("default-zone", "default_zone"), ("default_zone", "default_zone"), ("log-denied", "log_denied"),
                 ("log_denied", "log_denied"), ("state", "state"))

Item = FirewalldZone | FirewalldSetting


def setting_key(file: str) -> str:
    """The setting a one-value answer holds, from the bundle file name."""
    base = file.replace("\\", "/").rsplit("/", 1)[-1].lower()
    for needle, key in _SETTING_KEYS:
        if needle in base:
            return key
    return "value"


@never_raises(Parsed[Item], SOURCE)
def parse(text: str, file: str) -> Parsed[Item]:
    """Parse one firewall-cmd answer; never raises."""
    result: Parsed[Item] = Parsed(source=SOURCE, file=file)
    records, _, lines = run_template(TEMPLATE, text, "lines")
    consumed: set[int] = set()
    if any("key" in r for r in records):
        _zones(result, records, lines, file, consumed)
    else:
        filled = [i for i, line in enumerate(lines, 1) if line.strip()]
        if len(filled) == 1:  # a one-value answer: running, not running, public, off, or firewall-cmd's error
            ln = filled[0]
            result.items.append(FirewalldSetting(src=Provenance(file, ln), raw=lines[ln - 1], key=setting_key(file),
                                                 value=lines[ln - 1].strip()))
            consumed.add(ln)
    result.unparsed = unparsed_lines(lines, consumed)
    return result


def _zones(result: Parsed[Item], records: list[dict[str, Any]], lines: list[str], file: str,
           consumed: set[int]) -> None:
    zone: dict[str, Any] | None = None
    in_rich = False
    blocks: list[dict[str, Any]] = []
    for rec in records:
        ln = int(rec["ln"])
        if "zone" in rec and not lines[ln - 1].startswith((" ", "\t")):
            flags = {f.strip() for f in str(rec.get("zone_flags", "")).split(",")}
            zone = {"src": Provenance(file, ln), "raw": lines[ln - 1].strip(), "name": rec["zone"],
                    "active": "active" in flags, "default": "default" in flags, "has_target": False}
            blocks.append(zone)
            consumed.add(ln)
            in_rich = False
        elif zone is not None and "rich" in rec and in_rich:
            zone.setdefault("rich_rules", []).append(f"rule {rec['rich'].strip()}")
            consumed.add(ln)
        elif zone is not None and "key" in rec:
            key, value = rec["key"], str(rec.get("value", "")).strip()
            in_rich = key == "rich rules"
            if in_rich:
                if value:
                    zone.setdefault("rich_rules", []).append(value)
            elif key == "target":
                zone["target"] = value or None
                zone["has_target"] = True
            elif key in _LISTS:
                zone[_LISTS[key]] = value.split()
            elif key in _FLAGS:
                zone[_FLAGS[key]] = {"yes": True, "no": False}.get(value)
            else:
                continue  # an attribute this model does not keep: the line stays unparsed
            consumed.add(ln)
    for block in blocks:
        has_target = block.pop("has_target")
        active = block.pop("active") or not has_target  # --get-active-zones lists active zones only
        result.items.append(FirewalldZone(bindings_only=not has_target, active=active, **block))
