"""The paste corpus, measured: what netsnap recognises, understands and reads of real pasted command output.

`python3 bench/paste_corpus.py` (or `make`-free: any interpreter with netsnap installed) reads every file of
fixtures/paste/corpus/ as a ticket's loose file, through the same path `netsnap analyze` takes (loose
reader -> parsers -> Host -> NS307), and prints per format: files recognised (every source the truth
names, and no other), lines understood (non-blank lines that a parser read or the reader knew as paste
noise, over all non-blank lines), records parsed against the true count (truth.json, counted by hand
from the captures), silent misreads (a fact of truth.json the parsed model contradicts with no unparsed
line or note to show for it) and, for the flannel logs, the error and warning lines classified with the
right meaning (truth-logs.json: the statement that printed each line and its error class).
Exit status 0 always; `measure()` returns the numbers for the test that asserts the goals.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fixtures" / "paste" / "corpus"
sys.path.insert(0, str(ROOT))

from netsnap.bundle.loose import read_loose  # noqa: E402
from netsnap.bundle.members import Members  # noqa: E402
from netsnap.bundle.model import Bundle  # noqa: E402
from netsnap.bundle.paste import paste_lines  # noqa: E402
from netsnap.bundle.sniff import sniff_segments  # noqa: E402
from netsnap.engine.findings import Finding  # noqa: E402
from netsnap.engine.run import run_rules  # noqa: E402
from netsnap.load import build_host  # noqa: E402
from netsnap.model import Host, Ruleset, Snapshot  # noqa: E402
from netsnap.parsers.iptables_list import _INTERFACES_UNKNOWN  # noqa: E402


@dataclass
class FileResult:
    path: str
    format: str
    recognised: bool
    lines: int
    understood: int
    records: dict[str, tuple[int, int]]  # source -> (parsed, true)
    misreads: list[str] = field(default_factory=list)
    classified: int = 0
    to_classify: int = 0
    wrong: list[str] = field(default_factory=list)


def _open(path: Path) -> tuple[Bundle, Host]:
    bundle = read_loose(Members(data={path.name: path.read_bytes()}), str(path), "host")
    return bundle, build_host(bundle)


def _understood(path: Path, bundle: Bundle, host: Host) -> tuple[int, int]:
    """(non-blank lines, lines understood): a line is understood when a recognised part holds it and its
    parser did not leave it unparsed, or when the reader dropped it as paste noise."""
    text = path.read_text(errors="replace")
    lines = text.replace("\r\n", "\n").split("\n")
    content = {i for i, line in enumerate(lines, 1) if line.strip()}
    covered: set[int] = set()
    noise: set[int] = set()
    for seg, source in sniff_segments(text, path.name):
        noise.update(seg.noise)
        if seg.prompt_line:
            noise.add(seg.prompt_line)
        if source is not None:
            covered.update(range(seg.first, seg.last + 1))
    unparsed: set[int] = set()
    for sid, sf in bundle.files.items():
        status = host.sources.get(sid)
        for u in status.unparsed if status else []:
            unparsed.add(sf.file_line(u.line))
    # what the reader's segments leave between them (fences, bare prompts, blank lines) is paste noise
    noise |= paste_lines(lines)
    understood = {i for i in content if (i in covered or i in noise) and i not in unparsed}
    return len(content), len(understood)


def _rules(rs: Ruleset) -> dict[str, int]:
    return {name: sum(len(c.rules) for c in t.chains.values()) for name, t in rs.tables.items()}


def _all_rules(host: Host) -> list[Any]:
    return [r for rs in host.iptables.values() for t in rs.tables.values() for c in t.chains.values() for r in c.rules]


def _check(facts: dict[str, Any], host: Host, findings: list[Finding], others: dict[str, Host]) -> list[str]:
    """The facts of truth.json the parsed host contradicts."""
    bad: list[str] = []
    rulesets = list(host.iptables.values())
    if "tables" in facts:
        got: dict[str, int] = {}
        for rs in rulesets:
            got.update(_rules(rs))
        if got != facts["tables"]:
            bad.append(f"tables {got} != {facts['tables']}")
    if "interfaces_unknown" in facts:
        marked = all(any(m.text == _INTERFACES_UNKNOWN for m in r.matches) for r in _all_rules(host))
        if marked != facts["interfaces_unknown"]:
            bad.append(f"interfaces unknown: {marked}")
    if "unknown_names" in facts:
        n = sum(1 for r in _all_rules(host) for m in r.matches if "(a name:" in m.text)
        if n != facts["unknown_names"]:
            bad.append(f"{n} host names kept unknown, not {facts['unknown_names']}")
    for key, port in facts.get("dport", {}).items():
        chain, pos = key.split("/")
        rules = [r for r in _all_rules(host) if r.chain == chain and r.position == int(pos)]
        opts = [o.values[0] for r in rules for m in r.matches for o in m.options if o.name == "dport"]
        if opts != [port]:
            bad.append(f"{key} dport {opts} != {port}")
    for key, policy in facts.get("policy", {}).items():
        table, chain = key.split("/")
        chains = [c for rs in rulesets if (c := rs.chain(table, chain)) is not None]
        got_policy = chains[0].policy if chains else None
        if got_policy != policy:
            bad.append(f"{key} policy {got_policy}")
    for key, counters in facts.get("counters", {}).items():
        table, chain, pos = key.split("/")
        rules = [r for r in _all_rules(host) if r.table == table and r.chain == chain and r.position == int(pos)]
        if [[r.packets, r.bytes] for r in rules] != [counters]:
            bad.append(f"{key} counters")
    if facts.get("jumps_resolve"):
        names = {c for rs in rulesets for t in rs.tables.values() for c in t.chains}
        builtin = {"ACCEPT", "DROP", "RETURN", "REJECT", "DNAT", "SNAT", "MASQUERADE", "MARK", "CT", "LOG"}
        missing = {r.target.name for r in _all_rules(host) if r.target} - names - builtin
        if missing:
            bad.append(f"jumps to chains not in the dump: {sorted(missing)}")
    if "same_rules_as" in facts:
        other = others[facts["same_rules_as"]]
        def dump(h: Host) -> list[Any]:
            return [r.model_dump(exclude={"raw", "src", "table"}) for r in _all_rules(h)]
        if dump(host) != dump(other):
            bad.append(f"rules differ from {facts['same_rules_as']}")
    for key in ("version", "backend"):
        if key in facts and [getattr(rs, key) for rs in rulesets] != [facts[key]]:
            bad.append(f"{key} {[getattr(rs, key) for rs in rulesets]}")
    routes = host.routes
    if "defaults" in facts and sum(r.is_default for r in routes) != facts["defaults"]:
        bad.append(f"{sum(r.is_default for r in routes)} default routes")
    if "gateway_unknown" in facts:
        n = sum(1 for r in routes if r.extra.get("gateway_address") == "unknown" and r.gateway is None)
        if n != facts["gateway_unknown"]:
            bad.append(f"{n} gateways kept unknown")
    if facts.get("metric_not_shown") and not all(r.extra.get("metric") == "not shown" for r in routes):
        bad.append("a metric read from a column that is not the metric")
    if "dsts" in facts and [str(r.dst) for r in routes] != facts["dsts"]:
        bad.append(f"destinations {[str(r.dst) for r in routes]}")
    if "no_route_to" in facts and any(str(r.dst) == facts["no_route_to"] for r in routes):
        bad.append(f"a route cache entry became a route: {facts['no_route_to']}")
    ifaces = list(host.interfaces.values())
    if "addresses" in facts and sum(len(i.addresses) for i in ifaces) != facts["addresses"]:
        bad.append(f"{sum(len(i.addresses) for i in ifaces)} addresses")
    if facts.get("flags_not_shown") and not all(i.details.get("flags") == "not shown" for i in ifaces):
        bad.append("flags taken as shown")
    if facts.get("counters_all") and not all(i.counters is not None for i in ifaces):
        bad.append("an interface without counters")
    if "vxlan" in facts:
        v = host.interfaces.get("flannel.1")
        vx = v.vxlan if v else None
        want = facts["vxlan"]
        if vx is None or (vx.vni, vx.dstport, str(vx.local), vx.dev) != (want["vni"], want["dstport"], want["local"],
                                                                          want["dev"]):
            bad.append(f"vxlan details {vx}")
    for name, master in facts.get("master", {}).items():
        if host.interfaces.get(name) is None or host.interfaces[name].master != master:
            bad.append(f"{name} master")
    if "fdb_dev" in facts and [e.dev for e in host.fdb] != [facts["fdb_dev"]]:
        bad.append(f"fdb devices {[e.dev for e in host.fdb]}")
    if "fdb_dst" in facts and [str(e.dst) for e in host.fdb] != [facts["fdb_dst"]]:
        bad.append("fdb dst")
    for key, value in facts.get("sysctl", {}).items():
        if host.sysctl(key) != value:
            bad.append(f"sysctl {key}={host.sysctl(key)!r}")
    if "subnet" in facts:
        env = host.flannel.subnet_env
        if env is None or str(env.subnet) != facts["subnet"] or env.network is not None:
            bad.append(f"subnet.env {env}")
    for key, want_lines in facts.get("lines", {}).items():
        evs = [e for e in host.flannel.events if e.src.line == int(key)]
        if [e.lines for e in evs] != [want_lines]:
            bad.append(f"event at line {key} spans {[e.lines for e in evs]}")
    ns307 = {f.key[len(host.name) + 1:]: f for f in findings if f.rule == "NS307"}
    for key in ("not_recovered", "recovered"):
        if key in facts:
            f = ns307.get(facts[key])
            if f is None or ("(recovered)" in f.title) != (key == "recovered"):
                bad.append(f"NS307 {facts[key]}: {f.title if f else 'not reported'} (found {sorted(ns307)})")
    if "remediation" in facts and not any(facts["remediation"] in line
                                          for f in ns307.values() for line in f.remediation):
        bad.append(f"NS307 remediation lacks {facts['remediation']!r}")
    return bad


def measure(corpus: Path = CORPUS) -> list[FileResult]:
    truth: dict[str, dict[str, Any]] = json.loads((corpus / "truth.json").read_text())
    logs: dict[str, list[dict[str, Any]]] = json.loads((corpus / "truth-logs.json").read_text())
    hosts: dict[str, Host] = {}
    opened: dict[str, tuple[Bundle, Host]] = {}
    for rel in truth:
        opened[rel] = _open(corpus / rel)
        hosts[rel] = opened[rel][1]
    results: list[FileResult] = []
    for rel, want in truth.items():
        bundle, host = opened[rel]
        path = corpus / rel
        found = set(bundle.files)
        recognised = found == set(want["sources"])
        total, understood = _understood(path, bundle, host)
        records = {sid: (host.sources[sid].parsed if sid in host.sources else 0, n)
                   for sid, n in want["sources"].items()}
        findings = run_rules(Snapshot(hosts=[host]), only=["NS307"]).findings if host.flannel.events else []
        res = FileResult(rel, want["format"], recognised, total, understood, records)
        res.misreads = _check(want.get("facts", {}), host, findings, hosts)
        res.misreads += [f"{sid}: {got} records, truth {n}" for sid, (got, n) in records.items() if got > n]
        marks = logs.get(rel, [])
        res.to_classify = len(marks)
        for line in sorted({m["line"] for m in marks}):
            wanted = [(m["message_id"], m["error_class"]) for m in marks if m["line"] == line]
            got = [(e.message_id, e.fields.get("error_class")) for e in host.flannel.events if e.src.line == line]
            for w in wanted:
                if w in got:
                    got.remove(w)
                    res.classified += 1
                else:
                    res.wrong.append(f"line {line}: want {w}, got {got}")
        results.append(res)
    return results


def summary(results: list[FileResult]) -> dict[str, dict[str, Any]]:
    """Per format: files, recognised, lines, understood, parsed, truth, misreads, classified, to_classify."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for r in results:
        row = out[r.format]
        row["files"] += 1
        row["recognised"] += r.recognised
        row["lines"] += r.lines
        row["understood"] += r.understood
        row["parsed"] += sum(p for p, _ in r.records.values())
        row["truth"] += sum(t for _, t in r.records.values())
        row["misreads"] += len(r.misreads)
        row["classified"] += r.classified
        row["to_classify"] += r.to_classify
    return out


def main() -> None:
    results = measure()
    rows = summary(results)
    print(f"{'format':42} {'files':>9} {'lines understood':>18} {'records/truth':>14} {'misreads':>8} "
          f"{'log lines':>10}")
    total: dict[str, int] = defaultdict(int)
    for fmt, row in sorted(rows.items()):
        for k, v in row.items():
            total[k] += v
        logs = f"{row['classified']}/{row['to_classify']}" if row["to_classify"] else "-"
        print(f"{fmt:42} {row['recognised']:>4}/{row['files']:<4} {row['understood']:>8}/{row['lines']:<6} "
              f"({100 * row['understood'] / max(row['lines'], 1):5.1f}%) {row['parsed']:>6}/{row['truth']:<6} "
              f"{row['misreads']:>8} {logs:>10}")
    print(f"{'all':42} {total['recognised']:>4}/{total['files']:<4} {total['understood']:>8}/{total['lines']:<6} "
          f"({100 * total['understood'] / max(total['lines'], 1):5.1f}%) {total['parsed']:>6}/{total['truth']:<6} "
          f"{total['misreads']:>8} {total['classified']:>4}/{total['to_classify']:<5}")
    for r in results:
        for m in r.misreads + r.wrong:
            print(f"  {r.path}: {m}")
        if not r.recognised:
            print(f"  {r.path}: not recognised as the truth's sources")


if __name__ == "__main__":
    main()
