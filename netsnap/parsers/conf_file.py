"""`KEY=VALUE` configuration files of host firewall managers -> ConfSetting records, via
templates/conf_file.ttp: /etc/firewalld/firewalld.conf and /etc/default/ufw.

Values are unquoted (`"DROP"` -> DROP). `#` comment lines are not unparsed; any other line the
template did not read is. A key given twice keeps both records (both daemons use the last one).
"""

from __future__ import annotations

from netsnap.model.base import Parsed, Provenance
from netsnap.model.firewalld import ConfSetting
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import run_template, unparsed_lines

SOURCE = "firewalld_conf"  # and ufw_default


@never_raises(Parsed[ConfSetting], SOURCE)
def parse(text: str, file: str) -> Parsed[ConfSetting]:
    """Parse a KEY=VALUE configuration file; never raises."""
    result: Parsed[ConfSetting] = Parsed(source=SOURCE, file=file)
    records, _, lines = run_template("conf_file", text, "lines")
    consumed: set[int] = set()
    for rec in records:
        ln = int(rec["ln"])
        value = str(rec.get("value", "")).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        result.items.append(ConfSetting(src=Provenance(file, ln), raw=lines[ln - 1].strip(),
                                             key=rec["key"], value=value))
        consumed.add(ln)
    result.expected = sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))
    result.unparsed = unparsed_lines(lines, consumed, ignore_prefixes=("#",))
    return result
