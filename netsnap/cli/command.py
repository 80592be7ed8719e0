"""How every netsnap command looks and fails: plain help (no Python type tags, examples kept as
written) and one error prefix, `netsnap: error: ...`, for usage errors as for bad input.

Typer (0.29) prints an argument's Python type next to its metavar (`BUNDLE <list[str]>`) and
braces in the usage line; `PlainArgument` shows only the metavar. Flags given `metavar=""` show no
type either. Help uses click's plain formatter (`rich_markup_mode=None`): it fits any width, needs no
rich import (a fast `--help`), and `\\b` paragraphs (the examples) are printed as written.
tests/cli/test_help.py fails if a typer upgrade brings the tags back.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

PREFIX = "netsnap: error: "
LIMITS_KEY = "netsnap.limits"  # ctx.meta: the `--limit NAME=VALUE`s given before the command
PROGRAM_KEY = "netsnap.program"  # ctx.meta: run as the `netsnap` program (cap the process memory)


def error_line(message: str) -> str:
    """The one error line every command prints: `netsnap: error: MESSAGE` (first line of MESSAGE)."""
    first = (message.strip().splitlines() or [""])[0]
    return PREFIX + first


class PlainArgument(TyperArgument):
    """An argument shown by its metavar only: `BUNDLE...`, never `{BUNDLE}... <list[str]>`."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        return (name if self.required else f"[{name}]") + ("..." if self.nargs != 1 else "")


class NetsnapCommand(TyperCommand):
    """A command whose arguments are `PlainArgument`s."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = PlainArgument

    def invoke(self, ctx: Any) -> Any:
        """Run the command in its session: the `--limit`s given, and (as a program) the memory cap."""
        from netsnap.cli.common import end_session, start_session

        start_session(ctx.meta.get(LIMITS_KEY, []), as_program=bool(ctx.meta.get(PROGRAM_KEY)))
        try:
            return super().invoke(ctx)
        finally:
            end_session()


def invoked_with() -> list[str]:
    """The arguments the running command was given (after `netsnap`), for the report header."""
    return list(NetsnapGroup.argv)


class NetsnapGroup(TyperGroup):
    """The command group: usage errors (unknown option, bad choice, missing argument) end with the one
    error line and a pointer to `--help`, exit code 2. `argv` keeps the arguments of the run."""

    argv: tuple[str, ...] = ()

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        NetsnapGroup.argv = tuple(sys.argv[1:] if args is None else args)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False,
                              windows_expand_args=windows_expand_args, **extra)
        except typer.Abort:
            if not standalone_mode:
                raise
            sys.stderr.write(error_line("aborted") + "\n")
            sys.exit(1)
        except Exception as exc:
            from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

            if standalone_mode and isinstance(exc, NoArgsIsHelpError):  # `netsnap` alone: the help
                exc.show()
                sys.exit(exc.exit_code)
            if standalone_mode and isinstance(exc, ClickException):
                hint = ""
                if isinstance(exc, UsageError) and exc.ctx is not None:
                    hint = f" (see '{exc.ctx.command_path} --help')"
                sys.stderr.write(error_line(exc.format_message()) + hint + "\n")
                sys.exit(exc.exit_code)
            raise
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv
