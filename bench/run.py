"""Parse benchmark (not a test): `make bench` runs it in bench/.venv (the project plus insights-core).

Generates a large node (bench/generate.py: 100,000 kube-proxy style iptables rules in 30,000 chains,
10,000 routes, 200,000 flanneld journal lines) in a temp dir and prints, per source, the parse time
and lines/second (best of REPEAT runs, CPU time of this process, which other load on the machine
disturbs less than wall time), insights-core's `IPTables` / `Route` / `RouteDevices` on the same
files in the same run as the baseline with the ratio ours/insights,
the per-line cost at 1/4, 1/2 and full size (linearity), and the peak memory (ru_maxrss of a
fresh subprocess that parses the whole node and keeps every result). It prints every figure and
marks targets OK or MISSED; it never fails on a missed target. Finally it runs bench/trace_bench.py
if that exists, and bench/analyze_bench.py (analyze end to end against insights-core, peak RSS, CLI start).

Options: `--scale F` (default 1.0), `--repeat N` (default 3), `--quick` (scale 0.1, one repeat).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import analyze_bench  # noqa: E402  (bench/ is not a package)
import generate  # noqa: E402

# source id -> (parser module, generated file key)
SOURCES = {
    "iptables_save": ("iptables_save", "iptables_save"),
    "iptables_save -c": ("iptables_save", "iptables_save_counters"),
    "iptables_list": ("iptables_list", "iptables_list"),
    "route_n": ("route_n", "route_n"),
    "ip_route": ("ip_route", "ip_route"),
    "flannel_journal": ("flannel_journal", "flannel_journal"),
}
BASELINES = {  # source -> (insights-core module, class)
    "iptables_save": ("insights.parsers.iptables", "IPTables"),
    "route_n": ("insights.parsers.route", "Route"),
    "ip_route": ("insights.parsers.ip", "RouteDevices"),
}
RATIO_TARGET = {"iptables_save": 1.5}
MEMORY_TARGET_MB = 400.0
LINEARITY_TOLERANCE = 1.5  # per-line cost at full size may be at most this multiple of the 1/4-size cost


def _ours(module: str) -> Callable[[str, str], Any] | None:
    try:
        mod = importlib.import_module(f"netsnap.parsers.{module}")
    except ImportError:
        return None
    fn: Callable[[str, str], Any] = mod.parse
    return fn


def _insights(source: str) -> Callable[[str], Any] | None:
    """A callable that parses text with insights-core's parser for `source`, or None if unavailable."""
    if source not in BASELINES:
        return None
    module, name = BASELINES[source]
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    context = _context_factory()
    if context is None:
        return None
    return lambda text: cls(context(text))


def _context_factory() -> Callable[[str], Any] | None:
    """insights.tests.context_wrap where it exists, else a bare insights.core.context.Context."""
    try:
        from insights.tests import context_wrap

        return lambda text: context_wrap(text, path="/bench/file", strip=False)
    except ImportError:
        pass
    try:
        from insights.core.context import Context

        return lambda text: Context(content=text.splitlines(), path="/bench/file", relative_path="bench/file")
    except ImportError:
        return None


def _best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
        del result
    return min(times)


def _check_ours(source: str, result: Any) -> str:
    """A short sanity figure so a fast-but-empty parse cannot look good."""
    items = getattr(result, "items", [])
    unparsed = len(getattr(result, "unparsed", []))
    if source.startswith("iptables") and items:
        return f"{items[0].rule_count()} rules, {unparsed} unparsed"
    return f"{len(items)} items, {unparsed} unparsed"


def _check_insights(result: Any) -> str:
    for attr in ("rules", "data"):
        value = getattr(result, attr, None)
        if value is not None:
            return f"{len(value)} {attr}"
    return "?"


def run_speed(workdir: Path, scale: float, repeat: int) -> dict[str, dict[str, float]]:
    print(f"== parse speed at scale {scale} (best of {repeat}, CPU time of this process)")
    paths = generate.generate(workdir / "full", scale)
    figures: dict[str, dict[str, float]] = {}
    for source, (module, key) in SOURCES.items():
        text = paths[key].read_text()
        lines = text.count("\n")
        parse = _ours(module)
        if parse is None:
            print(f"{source:18} {lines:>8} lines  ours: not available (netsnap.parsers.{module} not importable)")
            continue
        result = parse(text, paths[key].name)
        ours = _best(lambda p=parse, t=text, n=paths[key].name: p(t, n), repeat)  # type: ignore[misc]
        line = (f"{source:18} {lines:>8} lines  ours {ours:7.3f} s {lines / ours:>10,.0f} lines/s  "
                f"[{_check_ours(source, result)}]")
        figures[source] = {"lines": lines, "ours": ours}
        baseline = _insights(source)
        if baseline is not None:
            try:
                base_result = baseline(text)
                theirs = _best(lambda b=baseline, t=text: b(t), repeat)  # type: ignore[misc]
            except Exception as exc:  # the baseline failing must not stop the benchmark
                line += f"  insights: failed ({type(exc).__name__}: {exc})"
            else:
                ratio = ours / theirs
                figures[source].update(insights=theirs, ratio=ratio)
                line += (f"  insights {theirs:7.3f} s {lines / theirs:>10,.0f} lines/s "
                         f"[{_check_insights(base_result)}]  ratio ours/insights {ratio:5.2f}x")
                if source in RATIO_TARGET:
                    target = RATIO_TARGET[source]
                    line += f" (target <= {target}x: {'OK' if ratio <= target else 'MISSED'})"
                    floor = _best(lambda t=text: model_floor(t), repeat)  # type: ignore[misc]
                    line += (f"\n{'':18} eager floor (2 unvalidated records per rule, no parsing: what building every "
                             f"rule costs at least; lazy chains build them when read) {floor:7.3f} s"
                             f" = {floor / theirs:4.2f}x insights")
        elif source in BASELINES:
            line += "  insights: not available"
        print(line)
    return figures


def model_floor(text: str) -> int:
    """Only what the model demands per rule (an IptRule and its Provenance, built without validation,
    no match parsing): the lower bound of any parser that returns this model."""
    from netsnap.model.base import Provenance
    from netsnap.model.iptables import IptRule
    from netsnap.model.unchecked import fast_record

    rules = []
    for ln, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if line.startswith("-A "):
            words = line.split(None, 2)
            rules.append(fast_record(IptRule, {
                "src": Provenance("f", ln), "raw": raw, "table": "nat",
                "chain": words[1], "position": ln, "source": None, "destination": None, "in_iface": None,
                "out_iface": None, "protocol": None, "fragment": None, "matches": [], "target": None,
                "packets": None, "bytes": None}))
    return len(rules)


def run_linearity(workdir: Path, repeat: int, scale: float) -> None:
    print(f"== linearity: per-line cost at 1/4, 1/2 and full size (full = scale {scale})")
    costs: dict[str, list[tuple[float, int, float]]] = {}
    for fraction in (0.25, 0.5, 1.0):
        paths = generate.generate(workdir / f"lin-{fraction}", scale * fraction)
        for source, (module, key) in SOURCES.items():
            parse = _ours(module)
            if parse is None:
                continue
            text = paths[key].read_text()
            lines = max(1, text.count("\n"))
            seconds = _best(lambda p=parse, t=text, n=paths[key].name: p(t, n), repeat)  # type: ignore[misc]
            costs.setdefault(source, []).append((fraction, lines, seconds))
    for source, rows in costs.items():
        cells = "  ".join(f"{f:>4}: {n:>7} lines {s:6.3f} s {s / n * 1e6:6.2f} us/line" for f, n, s in rows)
        first, last = rows[0][2] / rows[0][1], rows[-1][2] / rows[-1][1]
        verdict = "OK" if last <= first * LINEARITY_TOLERANCE else "MISSED"
        print(f"{source:18} {cells}  full/quarter per-line {last / first:4.2f} (linear: {verdict})")


NODE_SOURCES = ("iptables_save", "route_n", "ip_route", "flannel_journal")  # a node has one firewall dump form


def run_memory(workdir: Path, scale: float) -> None:
    print(f"== peak memory: a fresh process parses the node (scale {scale}) and keeps every result")
    node = workdir / "full"
    if not node.exists():
        generate.generate(node, scale)
    for label, sources in (("node: iptables-save + routes + journal", NODE_SOURCES),
                           ("list format alone (what a sosreport holds instead)", ("iptables_list",))):
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--memory-child", str(node), *sources],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{label}: memory child failed: {out.stderr.strip().splitlines()[-1:] or out.returncode}")
            continue
        data = json.loads(out.stdout.strip().splitlines()[-1])
        mb = data["peak_mb"]
        counts = data.get("items", {})
        kept = ", ".join(f"{k} +{v:.0f} MB" + (f" ({v * 1024 * 1024 / counts[k]:,.0f} B/item)" if counts.get(k) else "")
                         for k, v in data["kept_mb"].items())
        line = (f"{label}: {data['lines']:,} lines; imports {data['baseline_mb']:.0f} MB; kept per source: {kept}; "
                f"peak RSS {mb:.0f} MB")
        if sources == NODE_SOURCES:
            line += f"; target < {MEMORY_TARGET_MB:.0f} MB: {'OK' if mb < MEMORY_TARGET_MB else 'MISSED'}"
        print(line)


def _rss_mb(field: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    """Peak RSS of this process image: VmHWM (reset by exec), else ru_maxrss.

    ru_maxrss alone is wrong in a child: Linux keeps the parent's peak across fork+exec.
    """
    return _rss_mb("VmHWM")


def memory_child(node: Path, sources: list[str]) -> None:
    """Parse the given sources of the node, keep all results alive, print peak RSS as JSON."""
    for module, _ in SOURCES.values():
        _ours(module)  # imports (and template compilation) count in the baseline
    baseline = peak_rss_mb()
    kept: list[Any] = []
    kept_mb: dict[str, float] = {}
    counts: dict[str, int] = {}
    lines = 0
    for source in sources:
        module, key = SOURCES[source]
        parse = _ours(module)
        path = node / generate.FILES[key]
        if parse is None or not path.exists():
            continue
        gc.collect()
        before = _rss_mb("VmRSS")
        text = path.read_text()
        lines += text.count("\n")
        kept.append(parse(text, path.name))
        del text
        gc.collect()
        kept_mb[source] = _rss_mb("VmRSS") - before
        counts[source] = _item_count(kept[-1])
    print(json.dumps({"peak_mb": peak_rss_mb(), "baseline_mb": baseline, "lines": lines, "kept_mb": kept_mb,
                      "items": counts}))


def _item_count(result: Any) -> int:
    """Rules of a ruleset result, else items (routes, journal events)."""
    items = getattr(result, "items", [])
    if items and hasattr(items[0], "rule_count"):
        return sum(int(r.rule_count()) for r in items)
    return len(items)


def run_trace_hook() -> None:
    trace = HERE / "trace_bench.py"
    if not trace.exists():
        print("== trace benchmark: bench/trace_bench.py not present")
        return
    print("== trace benchmark (bench/trace_bench.py)")
    result = subprocess.run([sys.executable, str(trace), "--workers", str(os.cpu_count() or 1)], check=False)
    if result.returncode != 0:
        print(f"trace benchmark exited with {result.returncode}")


def run_analyze_hook(quick: bool, scale: float) -> None:
    """bench/analyze_bench.py: analyze end to end (issue 17's targets), each figure a fresh process."""
    print("== analyze end to end (bench/analyze_bench.py)")
    flags = ["--quick"] if quick else ["--scale", str(scale)]
    result = subprocess.run([sys.executable, str(HERE / "analyze_bench.py"), *flags], check=False)
    if result.returncode != 0:
        print(f"analyze benchmark exited with {result.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="scale 0.1, one repeat")
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("sources", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.sources or list(NODE_SOURCES))
        return 0
    scale, repeat = (0.1, 1) if args.quick else (args.scale, max(1, args.repeat))
    analyze_bench.compile_sources()
    print(f"python {sys.version.split()[0]}; {_versions()}")
    with tempfile.TemporaryDirectory(prefix="netsnap-bench-") as tmp:
        workdir = Path(tmp)
        run_speed(workdir, scale, repeat)
        run_linearity(workdir, repeat, scale)
        run_memory(workdir, scale)
    run_trace_hook()
    run_analyze_hook(args.quick, scale)
    return 0


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for dist in ("netsnap-analyzer", "insights-core", "pydantic", "ttp"):
        try:
            out.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            out.append(f"{dist} not installed")
    return ", ".join(out)


if __name__ == "__main__":
    sys.exit(main())
