"""/etc/firewalld/firewalld.conf -> FirewalldSetting records `conf.<KEY>`, via templates/firewalld_conf.ttp.

Values are unquoted (`"nftables"` -> nftables). `#` comment lines are not unparsed; any other line the
template did not read is. A key given twice keeps both records (firewalld uses the last one).
"""

from __future__ import annotations

from netsnap.model.base import Parsed, Provenance
from netsnap.model.firewalld import FirewalldSetting
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import run_template, unparsed_lines

SOURCE = "firewalld_conf"


@never_raises(Parsed[FirewalldSetting], SOURCE)
def parse(text: str, file: str) -> Parsed[FirewalldSetting]:
    """Parse firewalld.conf; never raises."""
    result: Parsed[FirewalldSetting] = Parsed(source=SOURCE, file=file)
    records, _, lines = run_template("firewalld_conf", text, "lines")
    consumed: set[int] = set()
    for rec in records:
        ln = int(rec["ln"])
        value = str(rec.get("value", "")).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        result.items.append(FirewalldSetting(src=Provenance(file, ln), raw=lines[ln - 1].strip(),
                                             key=f"conf.{rec['key']}", value=value))
        consumed.add(ln)
    result.expected = sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))
    result.unparsed = unparsed_lines(lines, consumed, ignore_prefixes=("#",))
    return result
