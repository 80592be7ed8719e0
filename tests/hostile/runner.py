"""Running netsnap commands on the hostile corpus in limited child processes, and judging each run.

`Server` starts tests/hostile/forkserver.py (netsnap imported once; every command a forked child
with an address-space limit and a time limit) and runs batches of `Job`s; `judge()` lists what is
wrong with one finished run: a traceback, an exit status other than 0/1/2, a timeout, a peak memory
over the stated bound, a refusal that is not one line, control characters in the output, or files
written outside the output directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

FORKSERVER = Path(__file__).with_name("forkserver.py")
WARMUP = Path(__file__).resolve().parents[2] / "fixtures" / "incident-a" / "node1"
PEAK_BOUND_KB = 1024 * 1024  # the stated peak-memory bound of one netsnap process: 1 GiB (docs/limits.md)
ADDRESS_LIMIT = 3 * 1024**3  # the child's RLIMIT_AS: a runaway stops here instead of taking the machine
TIME_LIMIT = 120.0  # a hang guard: the slowest run takes seconds
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


@dataclass
class Job:
    id: str
    argv: list[str]
    workdir: Path  # the child's cwd and TMPDIR parent; `out/` inside is the only place it may write
    timeout: float = TIME_LIMIT
    memory: int = ADDRESS_LIMIT
    user: str | None = None


@dataclass
class Run:
    job: Job
    rc: int
    timed_out: bool
    maxrss_kb: int
    seconds: float
    stdout: str = ""
    stderr: str = ""
    written: list[str] = field(default_factory=list)  # paths written outside out/


class Server:
    """One fork server process; `run(jobs)` returns the finished runs in job order."""

    def __init__(self, checkout: str | None = None, parallel: int = 2) -> None:
        env = dict(os.environ)
        if checkout:
            env["NETSNAP_CHECKOUT"] = checkout
        env["NETSNAP_WARMUP"] = str(WARMUP)
        env.pop("NETSNAP_DEBUG", None)
        self.proc = subprocess.Popen([sys.executable, str(FORKSERVER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
        self._send({"parallel": parallel})

    def _send(self, msg: dict[str, object]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def run(self, jobs: Iterable[Job]) -> list[Run]:
        todo = {job.id: job for job in jobs}
        for job in todo.values():
            _prepare(job)
            self._send({"id": job.id, "argv": job.argv, "cwd": str(job.workdir), "timeout": job.timeout,
                        "memory": job.memory, "user": job.user, "stdout": str(job.workdir / "stdout"),
                        "stderr": str(job.workdir / "stderr"), "tmpdir": str(job.workdir / "tmp")})
        done: dict[str, Run] = {}
        assert self.proc.stdout is not None
        while len(done) < len(todo):
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the fork server died")
            res = json.loads(line)
            job = todo[res["id"]]
            done[job.id] = _finish(job, res)
        return [done[i] for i in todo]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _prepare(job: Job) -> None:
    if job.workdir.exists():
        shutil.rmtree(job.workdir)
    (job.workdir / "out").mkdir(parents=True)
    (job.workdir / "tmp").mkdir()
    for p in (job.workdir, job.workdir / "out", job.workdir / "tmp"):
        p.chmod(0o777)


def _finish(job: Job, res: dict[str, object]) -> Run:
    def text(name: str) -> str:
        try:
            return (job.workdir / name).read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""

    written = sorted(str(p.relative_to(job.workdir)) for p in job.workdir.rglob("*")
                     if p.name not in ("stdout", "stderr") and p.parent != job.workdir / "out"
                     and p not in (job.workdir / "out", job.workdir / "tmp"))
    return Run(job=job, rc=int(res["rc"]), timed_out=bool(res["timed_out"]),  # type: ignore[call-overload]
               maxrss_kb=int(res["maxrss_kb"]), seconds=float(res["seconds"]),  # type: ignore[call-overload, arg-type]
               stdout=text("stdout"), stderr=text("stderr"), written=written)


def judge(run: Run, *, peak_bound_kb: int = PEAK_BOUND_KB) -> list[str]:
    """What is wrong with `run` (empty when it behaved)."""
    bad: list[str] = []
    if run.timed_out:
        bad.append(f"ran past the time limit ({run.job.timeout:.0f} s)")
    if "Traceback (most recent call last)" in run.stderr:
        bad.append("traceback: " + _last_line(run.stderr))
    if "MemoryError" in run.stderr and "Traceback" in run.stderr:
        bad.append("memory blow-up (MemoryError)")
    if run.maxrss_kb > peak_bound_kb:
        bad.append(f"peak memory {run.maxrss_kb // 1024} MiB over the bound of {peak_bound_kb // 1024} MiB")
    if not run.timed_out and run.rc not in (0, 1, 2):
        bad.append(f"exit status {run.rc}")
    if run.rc == 2 and not run.timed_out:
        lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
        if len(lines) != 1:
            bad.append(f"refusal is {len(lines)} lines on stderr, not one: {run.stderr[:300]!r}")
    for name, stream in (("stdout", run.stdout), ("stderr", run.stderr)):
        found = CONTROL.search(stream)
        if found:
            bad.append(f"control character {found.group()!r} in {name}")
    if run.written:
        bad.append(f"wrote outside the output directory: {run.written[:5]}")
    return bad


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """Path -> (size, mtime_ns) of everything under `root` (to prove the corpus was not written to)."""
    out: dict[str, tuple[int, int]] = {}
    stack = [str(root)]
    while stack:  # iterative: the corpus holds trees deeper than the recursion limit
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            out[entry.path] = (st.st_size, st.st_mtime_ns)
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return out
