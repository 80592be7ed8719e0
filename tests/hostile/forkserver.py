"""A fork server for the hostile-input matrix: imports netsnap once, then runs each job (one CLI
command) in a forked child with memory and time limits, and reports its exit, peak memory and time.

Run as a script (`python forkserver.py`), not imported: it must not import the test package, so the
same server can measure another checkout of netsnap (NETSNAP_CHECKOUT=DIR: a directory holding
`netsnap/`, with the rules as `netsnap/builtin_rules/`). NETSNAP_WARMUP=BUNDLE: analyse it once in
the server first, so children start warm (modules imported, templates compiled). Protocol: one JSON job per line on
stdin, one JSON result per line on stdout, in completion order; `{"parallel": N}` as the first line
sets how many children run at once. A job:

    {"id": str, "argv": [...], "cwd": dir, "stdout": file, "stderr": file,
     "timeout": seconds, "memory": bytes (RLIMIT_AS of the child), "user": "nobody" | null}

A result: {"id", "rc" (exit status or -signal), "timed_out", "maxrss_kb", "seconds"}. A child is
what `python -m netsnap ARGV` would be: `netsnap.cli.app.main()` with sys.argv set, stdout and stderr
redirected to the files, an uncaught exception printed as Python prints it (exit 1).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import resource
import select
import signal
import sys
import time
import traceback
from typing import Any


def _child(job: dict[str, Any]) -> None:
    os.setsid()
    out = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    err = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    code = 1
    try:
        if job.get("user"):
            entry = pwd.getpwnam(job["user"])
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
        os.chdir(job["cwd"])
        if job.get("tmpdir"):
            os.environ["TMPDIR"] = job["tmpdir"]
        memory = int(job["memory"])
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        sys.argv = ["netsnap", *job["argv"]]
        from netsnap.cli.app import main

        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException:  # what the interpreter does with an uncaught exception
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed or broken stream: nothing to flush
                stream.flush()
    os._exit(code)


def _use_checkout(root: str) -> None:
    """Import netsnap from `root` (another checkout) rather than the installed (editable) package."""
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, root)


def _warm_up(bundle: str) -> None:
    """Analyse one good bundle in the server, so each child starts with every module imported and
    every template compiled, as in a long-lived process (the children's own work stays theirs)."""
    import importlib

    for name in ("netsnap.diff.compare", "netsnap.diff.html", "netsnap.report.text", "netsnap.report.json_output",
                 "netsnap.secgroups", "netsnap.engine.discovery"):
        importlib.import_module(name)
    from netsnap.engine.run import run_rules
    from netsnap.load import load_snapshot

    run_rules(load_snapshot([bundle]))


def main() -> None:
    os.environ.setdefault("COLUMNS", "120")
    if os.environ.get("NETSNAP_CHECKOUT"):
        _use_checkout(os.environ["NETSNAP_CHECKOUT"])
    import netsnap.cli.app
    import netsnap.engine.run
    import netsnap.report.html
    import netsnap.trace.engine  # noqa: F401

    if os.environ.get("NETSNAP_WARMUP"):
        _warm_up(os.environ["NETSNAP_WARMUP"])

    parallel = 1
    running: dict[int, tuple[dict[str, Any], float]] = {}
    pending: list[dict[str, Any]] = []
    stdin_open = True
    buf = b""
    while stdin_open or pending or running:
        while pending and len(running) < parallel:
            job = pending.pop(0)
            pid = os.fork()
            if pid == 0:
                _child(job)
            running[pid] = (job, time.monotonic())
        timeout = 0.05 if running else None
        if stdin_open:
            ready, _, _ = select.select([0], [], [], timeout)
            if ready:
                chunk = os.read(0, 65536)
                if not chunk:
                    stdin_open = False
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        msg = json.loads(line)
                        if "parallel" in msg:
                            parallel = max(1, int(msg["parallel"]))
                        else:
                            pending.append(msg)
        elif running:
            time.sleep(0.02)
        now = time.monotonic()
        for pid, (job, started) in list(running.items()):
            done, status, usage = os.wait4(pid, os.WNOHANG)
            timed_out = False
            if done == 0:
                if now - started <= float(job["timeout"]):
                    continue
                os.killpg(pid, signal.SIGKILL)
                done, status, usage = os.wait4(pid, 0)
                timed_out = True
            del running[pid]
            rc = os.waitstatus_to_exitcode(status)
            result = {"id": job["id"], "rc": rc, "timed_out": timed_out, "maxrss_kb": usage.ru_maxrss,
                      "seconds": round(time.monotonic() - started, 3)}
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
