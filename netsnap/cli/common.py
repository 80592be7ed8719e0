"""Helpers shared by the command modules: the one bundle loader (one-line errors, the limits of this
run), the process memory ceiling, output formats.

`netsnap --limit NAME=VALUE COMMAND ...` (app.py) starts a session for the command: its `Limits`
reach every reader through `current_limits()` (one command runs per session; each starts afresh).
When netsnap runs as a program, the session also caps the heap of the process at the memory limit
(RLIMIT_DATA) and watches it, so no input can take more; running out
ends the command with one line naming the limit (`memory_message`).
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Sequence
from enum import StrEnum
from typing import NoReturn

import typer
from rich.console import Console

from netsnap.bundle.limits import InputRefused, Limits, MiB, over, with_overrides
from netsnap.bundle.members import clean_name
from netsnap.model.host import Snapshot

EXIT_USAGE = 2
#: Memory the process needs besides its heap (code, libraries, stacks): the heap cap is the memory
#: limit minus this, so the peak resident size stays under the limit itself.
MEMORY_HEADROOM = 96 * MiB
#: The heap watch gives up this far below the heap cap (more than the heap can grow between checks).
HEAP_MARGIN = 32 * MiB
#: Seconds of CPU time between two heap checks.
WATCH_INTERVAL = 0.02


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def one_line(message: str) -> str:
    """`message` as one printable line: control characters (newlines, escapes) shown as `\\xNN`."""
    return clean_name(message)


def fail(message: str) -> NoReturn:
    """Print a one-line error to stderr and exit with code 2 (usage or unreadable input)."""
    stderr_console().print(f"netsnap: error: {one_line(message)}", markup=False, soft_wrap=True)
    raise typer.Exit(code=EXIT_USAGE)


class InputError(Exception):
    """Unreadable input; str() is one line naming the file and the problem."""


def start_session(limit_specs: Sequence[str], *, as_program: bool) -> None:
    """Set this command's limits from `--limit NAME=VALUE`s; as a program, also cap the heap."""
    try:
        limits = with_overrides(Limits(), limit_specs)
    except ValueError as exc:
        fail(str(exc))
    if as_program:
        cap_memory(limits.memory)
    _SESSION[0] = _LAST[0] = limits


def end_session() -> None:
    """Back to the default limits once a command is done (the next one, or library use, starts afresh)."""
    _SESSION[0] = Limits()


_SESSION = [Limits()]  # the limits of the command running (set by start_session)
_LAST = [Limits()]  # the limits of the last command started (for the memory message after it unwound)


def current_limits() -> Limits:
    """The limits of the running command."""
    return _SESSION[0]


def cap_memory(limit: int) -> None:
    """Cap this process's heap (RLIMIT_DATA) so its peak resident size stays under `limit`, and
    watch the heap from a CPU-time timer so the command gives up *before* the cap: CPython can spin
    forever unwinding an exception when not even a small int can be allocated, so the cap itself
    must never be the first thing an input reaches."""
    try:
        import resource
        import signal
    except ImportError:  # pragma: no cover - not on POSIX: no cap
        return
    cap = max(limit - MEMORY_HEADROOM, 128 * MiB)
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    soft = cap - HEAP_MARGIN
    page = os.sysconf("SC_PAGE_SIZE")

    fired = [False]  # raised, and the heap has not come back under the margin since

    def watch(_signum: int, _frame: object) -> None:
        try:
            with open("/proc/self/statm", "rb") as statm:
                data_pages = int(statm.read().split()[5])
        except (OSError, ValueError, IndexError):  # no /proc: the cap alone holds
            return
        above = data_pages * page > soft
        if above and not fired[0]:  # once: the handlers that free the memory must be able to run
            fired[0] = True
            raise MemoryError("heap above the memory limit's margin")
        fired[0] = above

    signal.signal(signal.SIGVTALRM, watch)
    signal.setitimer(signal.ITIMER_VIRTUAL, WATCH_INTERVAL, WATCH_INTERVAL)
    atexit.register(signal.setitimer, signal.ITIMER_VIRTUAL, 0)  # the timer must not outlive its handler


def memory_message() -> str:
    """The one line for a command that ran out of memory under the memory limit."""
    return "out of memory: " + over("memory", _LAST[0], "the input needs more")


def read_snapshot(
    paths: Sequence[str | os.PathLike[str]], members: dict[str, dict[str, str]] | None = None
) -> Snapshot:
    """Bundles -> Snapshot (netsnap.load) under the command's limits; an unreadable bundle, an input
    over a limit or an OS error becomes an InputError. `members` (when given) receives each host's
    bundle text members (HTML appendix)."""
    from netsnap.load import load_snapshot

    try:
        return load_snapshot(paths, members, current_limits())
    except InputRefused as exc:
        raise InputError(one_line(str(exc))) from None
    except MemoryError:
        raise InputError(memory_message()) from None
    except (OSError, ValueError) as exc:
        named = ", ".join(os.fspath(p) for p in paths)
        raise InputError(one_line(f"{named}: {type(exc).__name__}: {exc}".splitlines()[0])) from None


def load_snapshot_or_exit(paths: Sequence[str | os.PathLike[str]]) -> Snapshot:
    """`read_snapshot`, ending the command with a one-line error and exit code 2 on bad input."""
    if not paths:
        fail("no bundle given")
    try:
        return read_snapshot(paths)
    except InputError as exc:
        fail(str(exc))
