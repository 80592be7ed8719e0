"""flanneld logs: the journal (short, short-precise, short-iso), pod logs (CRI format) and bare lines.

TTP recognises the line shapes (journal prefixes, journal markers `-- ... --`, `==> path <==` pod-log
headers, CRI and docker json-file lines, bare klog and k3s logrus lines). The two common journal shapes
(short, short-iso) are first tried with the template's own patterns in Python (`_journal_line`; a test
checks it against TTP line by line), which makes the parse 1.6x faster; Python then reads the klog header
`Lmmdd hh:mm:ss.uuuuuu PID file:line] msg` or the logrus `time=... level=... msg="..."` fields, and
`netsnap.flannel.log_catalog` classifies the message.

Events: only lines from flannel's journal identifiers (`flanneld`, `flanneld-start`, `sdnotify-proxy`,
`flannel-wrapper`, `rkt`, `kube-flannel`) and every line without a journal prefix (pod logs and
`kubectl logs` hold flannel's lines only) become `FlannelEvent`s; `k3s`/`rke2` lines only when they
are flannel's (a catalog message, or mentioning flannel). Other well-formed journal lines (systemd,
other daemons) are understood but not events.

Timestamps: a journal short-iso, CRI or docker json-file timestamp (it has a year and a zone) is used
as is (aware datetime); the short format and the klog header have no year, and guessing one would
invent data, so `timestamp` is None and the year-less text is kept in `fields["time"]` (and in `raw`);
short-monotonic keeps its seconds-since-boot there.

Version hints: the catalog's message ranges first, then the klog source file family (§7.4), then
the PID field width (zero-padded 5 digits: "<=v0.6.2"; space-padded to 7: ">=v0.7.0").

Pasted forms: `journalctl -x` catalog text (`-- Subject: ...`, `░░ ...`, a lone `--`) goes with the
entry above it (its `lines` grows); `systemctl status flanneld` (its header lines are understood, the
`Active:` line is a "unit" event); systemd's own lines about the unit (Failed to start, Main process
exited, start timeouts, restarts) are "unit" events; a log viewer's prefix before the klog header
(`[pod/NAME/CONTAINER] `, `kube-flannel `, `POD CONTAINER `) is read as the container; a message of
several lines (a line indented under it, as journalctl prints them, or a Go stack/continuation after a
bare klog line) is one event; two journal entries glued on one line (a lost newline) are two events on
that line, with a note. Prompt lines and fences are understood.

Each event's `message_id` is the log statement that printed it (log_catalog.py); events of lines
that carry no level (systemd, rkt) take their statement's severity as level.

`expected` stays None: a log has no count to check against (lines of other processes are dropped on
purpose); every non-blank line is an event, understood, or unparsed. Passwords in the `CLI flags
config` line, `-etcd-password` and `FLANNELD_ETCD_PASSWORD` are redacted in `raw` and `message`.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from typing import Any, Literal, TypeVar

from netsnap.bundle.paste import is_bare_prompt, is_fence, prompt_command
from netsnap.flannel.log_catalog import REDACTED, Classified, classify, file_hint, severity
from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.flannel import FlannelEvent
from netsnap.model.unchecked import slim_record
from netsnap.parsers.records import could_not_parse, never_raises
from netsnap.parsers.ttp_runner import run_template

SOURCE = "flannel_journal"
FLANNEL_IDENTS = {"flanneld", "flanneld-start", "sdnotify-proxy", "flannel-wrapper", "rkt", "kube-flannel", "flannel"}
EMBEDDING_IDENTS = {"k3s", "rke2", "k3s-agent", "k3s-server", "rke2-agent", "rke2-server"}

_KLOG = re.compile(r"^([IWEF])(\d\d)(\d\d) (\d\d:\d\d:\d\d\.\d+)(\s+)(\d+) ([^\s\]]+)\] ?(.*)$")
_LOGRUS = re.compile(r'time="?([^"\s]*)"? level=(\w+) msg="((?:[^"\\]|\\.)*)"')
_IDENT = re.compile(r"^([^\[]+)(?:\[(\d+)\])?$")
_LOGRUS_LEVEL = {"info": "I", "warning": "W", "warn": "W", "error": "E", "fatal": "F", "panic": "F"}
_PASSWORD = re.compile(r"((?:etcdPassword:|-etcd-password[= ]|FLANNELD_ETCD_PASSWORD=))(?!\*\*\*REDACTED)(\S+)")

Level = Literal["I", "W", "E", "F", "?"]
_S = TypeVar("_S")
# TTP runs over this many lines at a time, so that its intermediate records (~1 KB a line; the last run's stay
# referenced by TTP until its next run) stay bounded and do not fragment the heap between the kept events.
# Measured at 200k lines (bench): 5,000 -> 1,000 lowered the node's peak RSS 611 -> 577 MB and CPU 10.5 -> 8.8 s.
# Then 1,000 -> 100 lowered it 421 -> 408 MB at the same CPU time (min of 3 at 50k lines: 3.06 vs 3.05 s).
CHUNK_LINES = 100


_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def _iso(text: str) -> datetime | None:
    """An ISO timestamp with a zone (`+0000`, `+00:00`, `Z`, nanoseconds truncated to microseconds)."""
    m = _ISO.match(text)
    if not m:
        return None
    base, frac, zone = m.group(1), m.group(2), m.group(3)
    if frac:
        base += "." + frac[:6].ljust(6, "0")
    if zone:
        base += "+00:00" if zone == "Z" else (zone if ":" in zone else zone[:3] + ":" + zone[3:])
    try:
        return datetime.fromisoformat(base)
    except ValueError:
        return None


class _NotALogLine(Exception):
    """A line that matched a shape but whose content is not what the shape promised."""


def _docker_json(text: str) -> tuple[str, datetime | None, str] | None:
    """(message, timestamp, identifier) of a docker json-file log line, None if it is not one."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("log"), str):
        return None
    when = doc.get("time")
    return doc["log"].rstrip("\n"), _iso(when) if isinstance(when, str) else None, "kube-flannel"


def _redact(text: str) -> str:
    if "assword" not in text and "PASSWORD" not in text and "-password" not in text:
        return text
    return _PASSWORD.sub(lambda m: m.group(1) + REDACTED, text)


@never_raises(Parsed[FlannelEvent], SOURCE)
def parse(text: str, file: str) -> Parsed[FlannelEvent]:
    """Parse a flanneld log into events; never raises."""
    result: Parsed[FlannelEvent] = Parsed(source=SOURCE, file=file)
    lines = clean_lines(text)
    build = _Builder(file)
    for start in range(0, len(lines), CHUNK_LINES):
        chunk = lines[start:start + CHUNK_LINES]
        try:
            records, unparsed = _read_chunk(chunk)
        except MemoryError:  # the process memory limit: give up this file, never retry in its handler
            raise
        except Exception as exc:  # a parser never raises on bad input
            return could_not_parse(Parsed(source=SOURCE, file=file), text, exc)
        unread = {u.line for u in unparsed}
        by_line = {int(r["ln"]): r for r in records}
        for i in sorted(by_line.keys() | unread):
            raw = _redact(chunk[i - 1]) if 0 < i <= len(chunk) else ""
            ln = i + start
            rec = by_line.get(i)
            if rec is None or "continuation" in rec:
                if not _continue(result, build, ln, raw, rec is not None):
                    result.unparsed.append(UnparsedLine(line=ln, text=raw))
                continue
            if "catalog" in rec or "status" in rec:
                if "catalog" in rec and result.items and build.last_line == ln - 1:
                    _grow(result, build, ln, raw, None)
                elif "active" in rec:
                    _append(result, build, _status_event(rec, raw, build, ln))
                continue
            glued = _glued(raw) if "msg" in rec else None
            if glued is not None and _split_glued(result, build, raw, glued, ln):
                continue
            try:
                event = _event(rec, raw, build, ln)
            except _NotALogLine:
                result.unparsed.append(UnparsedLine(line=ln, text=raw))
                continue
            if event is not None:
                _append(result, build, event)
            elif "msg" in rec or "klog_line" in rec:
                build.last_line = 0  # another process's line: what follows it is not ours
        del records, unparsed
    result.unparsed.sort(key=lambda u: u.line)
    return result


def _read_chunk(chunk: list[str]) -> tuple[list[dict[str, Any]], list[UnparsedLine]]:
    """TTP's records and unparsed lines for `chunk` (line numbers 1-based within it). The two common
    journal shapes are read by `_journal_line` with the template's own patterns; only the other lines
    go through TTP (measured: TTP was ~45% of the journal's parse time)."""
    records: list[dict[str, Any]] = []
    rest: list[int] = []  # indexes of the lines left to TTP
    for i, line in enumerate(chunk):
        rec = _journal_line(line)
        if rec is None and line.strip():
            rec = _pasted_line(line)
        if rec is not None:
            rec["ln"] = i + 1
            records.append(rec)
        elif line.strip():
            rest.append(i)
    if not rest:
        return records, []
    found, unparsed, _ = run_template("flannel_journal", "\n".join(chunk[i] for i in rest), "lines")
    for rec in found:
        rec["ln"] = rest[int(rec["ln"]) - 1] + 1
        records.append(rec)
    return records, [UnparsedLine(line=rest[u.line - 1] + 1, text=u.text) for u in unparsed]


# The template's short and short-iso journal lines (templates/flannel_journal.ttp), for lines written
# with single spaces, no tab, no leading or trailing blank and a message that starts with a non-blank
# (TTP strips it); anything else goes through TTP itself.
_SHORT = re.compile(r"([A-Z][a-z][a-z]) ([0-9][0-9]?) ([0-9][0-9]:[0-9][0-9]:[0-9][0-9][.0-9]*) ([^ \t\n]+) "
                    r"([^ \t\n:]+): (\S.*)")
_SHORT_ISO = re.compile(r"([0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9:.]+[Z+-][0-9:]*) ([^ \t\n]+) ([^ \t\n:]+): (\S.*)")


def _journal_line(line: str) -> dict[str, Any] | None:
    """The record TTP makes of a short or short-iso journal line, or None (then TTP reads it)."""
    if not line or "\t" in line or line[-1].isspace() or line[0].isspace():
        return None
    m = _SHORT_ISO.fullmatch(line)
    if m is not None:
        return {"iso_ts": m.group(1), "host": m.group(2), "ident": m.group(3), "msg": m.group(4)}
    m = _SHORT.fullmatch(line)
    if m is not None:
        return {"month": m.group(1), "day": m.group(2), "clock": m.group(3), "host": m.group(4),
                "ident": m.group(5), "msg": m.group(6)}
    return None


def clean_lines(text: str) -> list[str]:
    """The lines as `ttp_runner.number_lines` numbers them (CRLF, CR and NULs cleaned), so that chunks of
    them keep their line numbers."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")


class _Builder:
    """Builds events and their provenance without re-validation (every value is already of its field's
    type), sharing the repeated values: the file name, identifiers, klog source files, PIDs, time zones,
    timestamps, messages and extracted fields (equal events share them: treat events as read-only).
    Measured at 200,000 lines: validated construction kept ~1.6 KB per event in pydantic's copies and
    fields-set objects alone; sharing messages, fields and timestamps saves ~250 B per event more."""

    def __init__(self, file: str) -> None:
        self.file = sys.intern(file)
        self.shared: dict[object, object] = {}
        self.shared_fields: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        self.classified: dict[tuple[str, str], Classified] = {}
        self.last_line = 0  # the last line of the last event (what a continuation or catalog line joins)

    def classify(self, message: str, level: str) -> Classified:
        """`log_catalog.classify`, once per distinct message and level (logs repeat themselves all day);
        the fields dict is shared: copy it before changing it."""
        key = (message, level)
        got = self.classified.get(key)
        if got is None:
            if len(self.classified) > 50_000:
                self.classified.clear()
            got = self.classified[key] = classify(message, level)
        return got

    def same(self, value: _S) -> _S:
        """One shared object for equal values (strings, ints, time zones)."""
        got = self.shared.setdefault(value, value)
        return got  # type: ignore[return-value]  # equal keys have equal types here

    def src(self, line: int) -> Provenance:
        return Provenance(self.file, line)

    def fields(self, fields: dict[str, str]) -> dict[str, str]:
        """One shared dict for equal extracted fields (and one for none): lease renewals, interface
        choices and subnet events repeat the same values all day."""
        key = tuple(fields.items())
        got = self.shared_fields.get(key)
        if got is None:
            got = self.shared_fields[key] = {name: self.same(value) for name, value in fields.items()}
        return got

    def when(self, value: datetime | None) -> datetime | None:
        """One shared object per distinct timestamp (journal lines of the same second) and time zone."""
        if value is None:
            return None
        got = self.shared.get(value)
        if got is not None:
            return got  # type: ignore[return-value]  # a datetime is only ever equal to a datetime here
        if value.tzinfo is not None:
            tz = self.same(value.tzinfo)
            if tz is not value.tzinfo:
                value = value.replace(tzinfo=tz)
        return self.same(value)


def _event(rec: dict[str, Any], raw: str, build: _Builder, ln: int) -> FlannelEvent | None:
    if "marker" in rec or "pod_log_path" in rec:
        return None
    timestamp: datetime | None = None
    time_text: str | None = None
    identifier: str | None = None
    journal_pid: int | None = None
    body = rec.get("msg") or rec.get("klog_line") or rec.get("logrus_line") or ""
    if "docker_json" in rec:
        doc = _docker_json(rec["docker_json"])
        if doc is None:
            raise _NotALogLine
        body, timestamp, identifier = doc
    if "month" in rec:
        time_text = f"{rec['month']} {rec['day']} {rec['clock']}"
    elif "monotonic" in rec:
        time_text = f"[{rec['monotonic'].strip()}] (seconds since boot)"
    elif "iso_ts" in rec:
        timestamp = _iso(rec["iso_ts"])
    elif "cri_ts" in rec:
        timestamp = _iso(rec["cri_ts"])
        identifier = "kube-flannel"
    if "ident" in rec:
        m = _IDENT.match(rec["ident"])
        identifier = m.group(1) if m else rec["ident"]
        journal_pid = int(m.group(2)) if m and m.group(2) else None
    body = _redact(body)
    level: Level = "?"
    pid = journal_pid
    source_file: str | None = None
    pid_hint: str | None = None
    message = body
    k = _KLOG.match(body)
    if k:
        level = k.group(1)  # type: ignore[assignment]  # the regex allows I, W, E, F only
        time_text = time_text or f"{k.group(2)}-{k.group(3)} {k.group(4)}"
        pid = int(k.group(6))
        source_file = k.group(7)
        message = k.group(8)
        width = len(k.group(5)) + len(k.group(6))
        pid_hint = ">=v0.7.0" if width == 8 else ("<=v0.6.2" if len(k.group(5)) == 1 else None)
    else:
        lr = _LOGRUS.search(body)
        if lr:
            timestamp = timestamp or _iso(lr.group(1))
            level = _LOGRUS_LEVEL.get(lr.group(2), "?")  # type: ignore[assignment]
            message = lr.group(3).replace('\\"', '"')
    if "prefix" in rec:  # a log viewer's `[pod/NAME/CONTAINER] ` or `kube-flannel ` before the klog header
        identifier = "kube-flannel"
    kind, fields, hint, mid, releases = build.classify(message, level)
    if identifier is not None and identifier not in FLANNEL_IDENTS:
        if identifier == "systemd":
            flannelish = kind == "unit" and "lannel" in message
        else:
            flannelish = identifier in EMBEDDING_IDENTS and (kind != "other" or "flannel" in message.lower())
        if not flannelish:
            return None
    if level == "?" and mid is not None and kind in ("unit", "runtime"):
        level = _LEVELS[severity(mid, message, level)]
    if time_text and timestamp is None:
        fields = {**fields, "time": time_text}
    share = build.shared.setdefault  # build.same without a call per value (four a line, 200k lines)
    return slim_record(FlannelEvent, {
        "src": build.src(ln), "raw": raw, "timestamp": build.when(timestamp), "level": level,
        "pid": share(pid, pid), "source_file": share(source_file, source_file),
        "identifier": share(identifier, identifier), "kind": kind, "message": share(message, message),
        "fields": build.fields(fields),
        "version_hint": hint or file_hint(source_file) or pid_hint or releases, "message_id": mid, "lines": 1})


_LEVELS: dict[str, Level] = {"error": "E", "warning": "W", "info": "I"}
_PREFIXED_KLOG = re.compile(r"^(\[[\w./-]+\]|[a-z0-9][\w.-]*(?: [a-z0-9][\w.-]*)?) "
                            r"(?=[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+\] )")
_STATUS = re.compile(r"^\s*(?:[●○×*] )?\S+\.service(?: - .*)?$|^\s+(?P<key>Loaded|Active|Main PID|Process|Tasks|"
                     r"Memory|CPU|CGroup|Docs|Drop-In|Status|TriggeredBy|Invocation|Trigger|IP|IO|Mem peak|Notes?):\s"
                     r"|^\s+[└├│]")
_STACK = ("goroutine ", "panic:", "main.", "github.com/", "k8s.io/", "created by ", "\t", "runtime.")
# a journal prefix inside a line: a second entry glued on (short or short-iso)
_GLUE = re.compile(r"(?:[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) "
                   r"\S+ [^\s\[:]+(?:\[\d+\])?: ")


def _pasted_line(line: str) -> dict[str, Any] | None:
    """The record of a line a paste or `journalctl -x` / `systemctl status` adds, or a log viewer's
    prefixed klog line; None for the other lines (TTP reads them)."""
    if line.startswith("░░") or line.strip() == "--" or (line.startswith("-- ") and not line.rstrip().endswith("--")):
        return {"catalog": line}
    if is_fence(line) or is_bare_prompt(line) or prompt_command(line) is not None:
        return {"status": line}  # understood, no event
    m = _STATUS.match(line)
    if m is not None:
        if m.group("key") == "Active":
            return {"status": line, "active": line.split(":", 1)[1].strip()}
        return {"status": line}
    k = _PREFIXED_KLOG.match(line)
    if k is not None:
        return {"klog_line": line[k.end():], "prefix": k.group(1)}
    if line[:1].isspace():
        return {"continuation": line}
    return None


def _append(result: Parsed[FlannelEvent], build: _Builder, event: FlannelEvent) -> None:
    result.items.append(event)
    build.last_line = event.src.line + event.lines - 1


def _grow(result: Parsed[FlannelEvent], build: _Builder, ln: int, raw: str, text: str | None) -> None:
    """Add line `ln` to the last event: `journalctl -x` catalog text (text None) or a continuation of its
    message (then the message is read again)."""
    ev = result.items[-1]
    update: dict[str, Any] = {"raw": f"{ev.raw}\n{raw}", "lines": ev.lines + 1}
    if text is not None:
        message = f"{ev.message}\n{text}"
        kind, fields, hint, mid, _releases = classify(message, ev.level)
        extra = {k: v for k, v in ev.fields.items() if k == "time"}
        update.update({"message": message, "kind": kind, "fields": {**fields, **extra}, "message_id": mid,
                       "version_hint": hint or ev.version_hint})
    result.items[-1] = ev.model_copy(update=update)
    build.last_line = ln


def _continue(result: Parsed[FlannelEvent], build: _Builder, ln: int, raw: str, indented: bool) -> bool:
    """Whether `raw` continues the message of the event on the line above (see the module docstring)."""
    if not result.items or build.last_line != ln - 1 or not raw.strip():
        return False
    ev = result.items[-1]
    bare = ev.raw.split("\n", 1)[0].lstrip().startswith(("I", "W", "E", "F", "["))
    if not (indented or (bare and (raw.startswith(_STACK) or ev.message.rstrip().endswith(":")))):
        return False
    _grow(result, build, ln, raw, raw.strip())
    return True


def _status_event(rec: dict[str, Any], raw: str, build: _Builder, ln: int) -> FlannelEvent:
    """The `Active:` line of `systemctl status`: the unit's state then."""
    state = str(rec["active"])
    failed = state.startswith("failed") or "auto-restart" in state
    return slim_record(FlannelEvent, {
        "src": build.src(ln), "raw": raw, "timestamp": None, "level": "E" if failed else "I", "pid": None,
        "source_file": None, "identifier": "systemd", "kind": "unit", "message": f"Active: {state}",
        "fields": build.fields({"state": state, **({"error_class": "unit"} if failed else {})}),
        "version_hint": None, "message_id": "unit.status", "lines": 1})


def _glued(raw: str) -> int | None:
    """Where a second journal entry starts inside `raw` (a lost newline), or None. A cheap test first: the
    line's date prefix must come back later in the line."""
    if len(raw) < 40 or raw.find(raw[:7], 7) < 0:
        return None
    m = _GLUE.search(raw, 16)
    return m.start() if m is not None else None


def _split_glued(result: Parsed[FlannelEvent], build: _Builder, raw: str, at: int, ln: int) -> bool:
    """Read a line holding two journal entries (cut at `at`) as two events of line `ln`; False when the
    parts are not both journal lines."""
    head, tail = raw[:at], raw[at:]
    first = _journal_line(head.rstrip())
    second = _journal_line(tail)
    if first is None or second is None:
        return False
    result.notes.append(f"line {ln}: two journal entries on one line (a lost newline): read as two events")
    build.last_line = 0
    for rec, text in ((first, head.rstrip()), (second, tail)):
        event = _event({**rec, "ln": ln}, text, build, ln)
        if event is not None:
            _append(result, build, event)
    return True
