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


def load_snapshot_or_exit(paths: Sequence[str | os.PathLike[str]]) -> Snapshot:
    """Load bundles; an unreadable bundle ends the command with a one-line error and exit code 2."""
    from netsnap.load import load_snapshot

    if not paths:
        fail("no bundle given")
    try:
        return load_snapshot(paths)
    except BundleError as exc:
        fail(str(exc))
