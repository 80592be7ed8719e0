"""Progress on stderr for long runs: a spinner per stage while it runs, then a line saying what it did
(`✓ read 2 bundles, 3.1 MiB: master 43 sources (23 understood), node1 ...`).

Shown only when stderr is a terminal and neither `--quiet` nor a JSON document was asked for; otherwise
every call is a no-op and rich.progress is never imported. Bytes are measured from the CLI side (the
size of each input on disk): the bundle reader has no progress hook.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MAX_WALK = 20_000  # directory entries counted for an input's size; a bigger tree is "at least" that size


def input_size(path: str) -> int:
    """Bytes of a bundle on disk: the file, or the regular files under a directory (not following links)."""
    try:
        if not os.path.isdir(path):
            return os.path.getsize(path)
    except OSError:
        return 0
    total, seen = 0, 0
    stack = [path]
    while stack and seen < MAX_WALK:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    seen += 1
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


class Stage:
    """One running stage: `done(text)` replaces its description when it ends."""

    def __init__(self, progress: Any, task: Any) -> None:
        self._progress, self._task = progress, task
        self.result: str | None = None

    def done(self, text: str) -> None:
        self.result = text


class Stages:
    """The stages of one command, drawn on stderr (see the module docstring for when)."""

    def __init__(self, *, quiet: bool, machine_output: bool) -> None:
        self.enabled = not quiet and not machine_output and sys.stderr.isatty()
        self._progress: Any = None

    def __enter__(self) -> Stages:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(finished_text="[green]✓[/]"), TextColumn("{task.description}"),
                TimeElapsedColumn(), console=Console(stderr=True, highlight=False), transient=False)
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop drawing (before the report itself goes to the same terminal)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    @contextmanager
    def stage(self, text: str) -> Iterator[Stage]:
        """A stage shown as `text` with a spinner; its `done()` text (or `text`) stays when it ends."""
        if self._progress is None:
            yield Stage(None, None)
            return
        from rich.markup import escape

        task = self._progress.add_task(escape(text), total=1)
        stage = Stage(self._progress, task)
        try:
            yield stage
        finally:
            self._progress.update(task, completed=1, description=escape(stage.result or text))
