"""`ufw status verbose` / `ufw status numbered` -> UfwSetting and UfwRule records, via
templates/ufw_status.ttp.

Header values become UfwSetting (`status`, `logging`, `default`, `new_profiles`); each rule line a
UfwRule, its columns split at runs of two or more spaces: `[ 1] ` numbers, ` (v6)` twins and a trailing
`# comment` are taken apart. `Status: inactive` alone is a complete answer (no rules).
"""

from __future__ import annotations

import re

from netsnap.model.base import Parsed, Provenance
from netsnap.model.firewalld import UfwRule, UfwSetting
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import run_template, unparsed_lines

SOURCE = "ufw_status"
_COLUMNS = re.compile(r"\s{2,}")
_NUMBER = re.compile(r"^\[\s*(\d+)\]\s*")
_V6 = " (v6)"
_HEADERS = {"status": "status", "logging": "logging", "defaults": "default", "new_profiles": "new_profiles"}

Item = UfwSetting | UfwRule


@never_raises(Parsed[Item], SOURCE)
def parse(text: str, file: str) -> Parsed[Item]:
    """Parse ufw's status output; never raises."""
    result: Parsed[Item] = Parsed(source=SOURCE, file=file)
    records, _, lines = run_template("ufw_status", text, "lines")
    consumed: set[int] = set()
    for rec in records:
        ln = int(rec["ln"])
        raw = lines[ln - 1]
        src = Provenance(file, ln)
        key = next((k for k in _HEADERS if k in rec), None)
        if key is not None:
            result.items.append(UfwSetting(src=src, raw=raw.strip(), key=_HEADERS[key], value=str(rec[key]).strip()))
        elif "rule_line" in rec and not raw.strip().startswith("--"):
            rule = _rule(raw, src)
            if rule is None:
                continue
            result.items.append(rule)
        consumed.add(ln)
    result.unparsed = unparsed_lines(lines, consumed)
    return result


def _rule(raw: str, src: Provenance) -> UfwRule | None:
    line = raw.strip()
    number = None
    m = _NUMBER.match(line)
    if m:
        number = int(m.group(1))
        line = line[m.end():]
    comment = None
    if " # " in line:
        line, comment = (part.strip() for part in line.split(" # ", 1))
    cols = _COLUMNS.split(line)
    if len(cols) != 3:
        return None
    to, action, source = cols
    v6 = _V6 in to or _V6 in source
    return UfwRule(src=src, raw=raw.strip(), to=to.replace(_V6, ""), action=action, source=source.replace(_V6, ""),
                   v6=v6, number=number, comment=comment)
