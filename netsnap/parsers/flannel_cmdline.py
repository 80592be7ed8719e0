"""The running flanneld's command line: one `ProcessArgv` per process.

The collector writes `/proc/PID/cmdline` with NULs turned into newlines, one argument a line, each
process after a `# pid N` line (a vector before any such line gets `pid=None`). A blank line between
two arguments of the same process is an empty argument (it matters: Go's flag parser stops at it);
blank lines at the end of a process's block are the trailing NUL. Other `#` lines are comments.
"""

from __future__ import annotations

from netsnap.model.base import Parsed, Provenance
from netsnap.model.flannel import ProcessArgv
from netsnap.parsers.records import could_not_parse, never_raises
from netsnap.parsers.ttp_runner import run_template

SOURCE = "flannel_cmdline"


@never_raises(Parsed[ProcessArgv], SOURCE)
def parse(text: str, file: str) -> Parsed[ProcessArgv]:
    """Parse the argv dump into one ProcessArgv per process; never raises."""
    result: Parsed[ProcessArgv] = Parsed(source=SOURCE, file=file)
    try:
        records, unparsed, lines = run_template("flannel_cmdline", text, "args")
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a parser never raises on bad input
        return could_not_parse(result, text, exc)
    result.unparsed = [u for u in unparsed if not u.text.lstrip().startswith("#")]
    by_line = {int(r["ln"]): r for r in records if str(r.get("ln", "")).isdigit()}
    current: ProcessArgv | None = None
    pending_blank: list[int] = []
    headers = 0
    for n, line in enumerate(lines, 1):
        rec = by_line.get(n)
        if rec is not None and "pid" in rec:
            headers += 1
            current = ProcessArgv(pid=int(rec["pid"]), src=Provenance(file=file, line=n), raw=line)
            result.items.append(current)
            pending_blank = []
        elif rec is not None and "arg" in rec:
            if current is None:
                current = ProcessArgv(src=Provenance(file=file, line=n), raw=line)
                result.items.append(current)
            for blank in pending_blank:
                current.argv.append("")
                current.arg_lines.append(blank)
            pending_blank = []
            current.argv.append(line)
            current.arg_lines.append(n)
        elif not line.strip() and current is not None and current.argv:
            pending_blank.append(n)
    result.expected = headers or (1 if result.items else None)
    if headers and len(result.items) != headers:
        result.notes.append(f"{file}: {headers} '# pid' headers but {len(result.items)} argument vectors")
    return result
