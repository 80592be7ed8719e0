"""Identity sources: `hostname`, `uname -a`, `/etc/os-release`, `date -u`, `uptime`.

One module for five sources. Each line shape is distinct, so the content says what a line is (the
fixture runner and sosreports do not always name the file the same way). Items are `IdentityFact`
records with keys `hostname`, `kernel` and `uname` (from `uname -a`), `os.<KEY>` (os-release values,
unquoted with shell rules), `date` and `uptime`. Comment lines of os-release are understood.
"""

from __future__ import annotations

from netsnap.flannel.shell import read_value
from netsnap.model.base import Parsed, Provenance
from netsnap.model.host import IdentityFact
from netsnap.parsers.records import could_not_parse, never_raises
from netsnap.parsers.ttp_runner import run_template

SOURCE = "identity"


@never_raises(Parsed[IdentityFact], SOURCE)
def parse(text: str, file: str) -> Parsed[IdentityFact]:
    """Parse one identity source into IdentityFact records; never raises."""
    result: Parsed[IdentityFact] = Parsed(source=SOURCE, file=file)
    try:
        records, unparsed, lines = run_template("identity", text, "facts")
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a parser never raises on bad input
        return could_not_parse(result, text, exc)
    result.unparsed = [u for u in unparsed if not u.text.lstrip().startswith("#")]
    for rec in sorted(records, key=lambda r: int(r.get("ln", 0))):
        ln = int(rec["ln"])
        raw = lines[ln - 1] if 0 < ln <= len(lines) else ""
        src = Provenance(file=file, line=ln)
        facts: list[tuple[str, str]] = []
        if "host_name" in rec:
            facts.append(("hostname", rec["host_name"]))
        elif "kernel_release" in rec:
            facts.append(("kernel", rec["kernel_release"]))
            facts.append(("uname", raw.strip()))
        elif "os_key" in rec:
            col = raw.find("=")
            value = read_value(lines, ln - 1, col + 1).value if col >= 0 else rec.get("os_value", "")
            facts.append((f"os.{rec['os_key']}", value))
        elif "date_text" in rec:
            facts.append(("date", rec["date_text"].strip()))
        elif "uptime_text" in rec:
            facts.append(("uptime", rec["uptime_text"].strip()))
        for key, value in facts:
            result.items.append(IdentityFact(key=key, value=value, src=src, raw=raw))
    return result
