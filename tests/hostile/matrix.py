"""The hostile-input matrix as a measurement (not a test): every command on every corpus case.

    .venv/bin/python -m tests.hostile.matrix [--checkout DIR] [--timeout S] [--no-slow|--slow-only]
                                             [--only NAME] [-v]

builds the corpus in a temp dir, runs each case's commands (tests/hostile/corpus.py `commands`) in
limited children (runner.py), and prints per problem kind how many runs showed it (tracebacks, runs
past the time limit, memory blow-ups, bad exit statuses, refusals longer than one line, control
characters in the output, writes outside the output directory), the slowest runs and the peak
memory. `--checkout DIR` measures another checkout: DIR holds `netsnap/` with the rules copied to
`netsnap/builtin_rules/` (`git archive BASE netsnap rules | tar -x -C DIR; mv DIR/rules
DIR/netsnap/builtin_rules`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.hostile import corpus
from tests.hostile.runner import PEAK_BOUND_KB, Job, Server, judge, tree_state

KINDS = {
    "traceback": "tracebacks",
    "ran past": "runs past the time limit",
    "memory": "memory blow-ups (MemoryError or peak over 1 GiB)",
    "exit status": "exit status not 0/1/2 (killed or crashed)",
    "refusal is": "refusals longer than one line",
    "control character": "control characters in the output",
    "wrote outside": "writes outside the output directory",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkout")
    ap.add_argument("--slow-only", action="store_true")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--no-slow", action="store_true")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="netsnap-matrix-"))
    base.chmod(0o755)
    try:
        started = time.monotonic()
        cases = corpus.build(base / "corpus", slow=not args.no_slow)
        if args.slow_only:
            cases = [c for c in cases if c.slow]
        if args.only:
            cases = [c for c in cases if any(o in c.name for o in args.only)]
        print(f"corpus: {len(cases)} cases built in {time.monotonic() - started:.0f} s")
        before = tree_state(base / "corpus")
        good = str(base / "corpus" / "good-node1")
        jobs = []
        for case in cases:
            for label, argv in corpus.commands(case, good, "out"):
                jobs.append(Job(id=f"{case.name}/{label}", argv=argv, workdir=base / "runs" / case.name / label,
                                timeout=args.timeout, user=case.user))
        server = Server(args.checkout, parallel=args.parallel)
        started = time.monotonic()
        runs = server.run(jobs)
        server.close()
        elapsed = time.monotonic() - started
        counts: Counter[str] = Counter()
        for run in runs:
            problems = judge(run)
            for kind in KINDS:
                if any(p.startswith(kind) or kind in p for p in problems):
                    counts[kind] += 1
            if problems and args.verbose:
                print(f"  {run.job.id}: rc={run.rc} {run.seconds:.1f}s {run.maxrss_kb // 1024}MiB: "
                      + "; ".join(problems))
        changed = sorted(p for p, st in tree_state(base / "corpus").items() if before.get(p) != st)
        print(f"{len(runs)} runs over {len(cases)} cases in {elapsed:.0f} s "
              f"(time limit {args.timeout:.0f} s, address-space limit 3 GiB, bound {PEAK_BOUND_KB // 1024} MiB)")
        for kind, label in KINDS.items():
            print(f"  {counts[kind]:4d}  {label}")
        print(f"  {len(changed):4d}  corpus paths changed or added {changed[:5]}")
        codes = Counter(run.rc for run in runs)
        print("exit statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())))
        peak = max(runs, key=lambda r: r.maxrss_kb)
        print(f"peak memory: {peak.maxrss_kb // 1024} MiB ({peak.job.id}); "
              f"median {sorted(r.maxrss_kb for r in runs)[len(runs) // 2] // 1024} MiB")
        for run in sorted(runs, key=lambda r: -r.seconds)[:8]:
            print(f"  slow: {run.seconds:6.1f} s  {run.maxrss_kb // 1024:5d} MiB  rc={run.rc}  {run.job.id}")
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)  # rm copes with trees deeper than PATH_MAX
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
