"""The `netsnap` command. `netsnap.cli.app` holds the typer application; each command module registers
itself there. `main` answers `netsnap --version` before typer is even imported."""

from __future__ import annotations

import sys


def main() -> None:
    """The `netsnap` program."""
    if sys.argv[1:] == ["--version"]:
        from netsnap import __version__

        sys.stdout.write(f"netsnap {__version__}\n")
        return
    from netsnap.cli.app import main as run

    run()
