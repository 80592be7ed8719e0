"""Helpers shared by the command modules: loading bundles with one-line errors, output formats."""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum
from typing import NoReturn

import typer
from rich.console import Console

from netsnap.bundle.model import BundleError
from netsnap.model.host import Snapshot

EXIT_USAGE = 2


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def fail(message: str) -> NoReturn:
    """Print a one-line error to stderr and exit with code 2 (usage or unreadable input)."""
    stderr_console().print(f"netsnap: error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(code=EXIT_USAGE)


class InputError(Exception):
    """Unreadable input; str() is one line naming the file and the problem."""


def read_snapshot(
    paths: Sequence[str | os.PathLike[str]], members: dict[str, dict[str, str]] | None = None
) -> Snapshot:
    """Bundles -> Snapshot (netsnap.load); a missing path, an unreadable bundle or an OS error becomes
    an InputError. `members` (when given) receives each host's bundle text members (HTML appendix)."""
    from netsnap.load import load_snapshot

    for p in paths:
        if not os.path.exists(p):
            raise InputError(f"{os.fspath(p)}: no such file or directory")
    try:
        return load_snapshot(paths, members)
    except BundleError as exc:
        raise InputError(str(exc)) from None
    except (OSError, ValueError) as exc:
        named = ", ".join(os.fspath(p) for p in paths)
        raise InputError(f"{named}: {type(exc).__name__}: {exc}".splitlines()[0]) from None


def load_snapshot_or_exit(paths: Sequence[str | os.PathLike[str]]) -> Snapshot:
    """`read_snapshot`, ending the command with a one-line error and exit code 2 on bad input."""
    if not paths:
        fail("no bundle given")
    try:
        return read_snapshot(paths)
    except InputError as exc:
        fail(str(exc))
