"""`netsnap trace`: simulate one packet (and its reply) across the hosts of the given bundles."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from netsnap.cli.command import NetsnapCommand


class Proto(StrEnum):
    ICMP = "icmp"
    TCP = "tcp"
    UDP = "udp"


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def trace_command(
    bundles: Annotated[list[str], typer.Argument(metavar="BUNDLE", help="Host bundles (tarballs or directories).")],
    src: Annotated[str, typer.Option("--from", metavar="HOST", help="Source host: name or one of its IPs.")],
    dst: Annotated[str, typer.Option("--to", metavar="IP", help="Destination IP address.")],
    proto: Annotated[Proto, typer.Option("--proto", metavar="icmp|tcp|udp", help="Protocol.")] = Proto.ICMP,
    port: Annotated[int | None, typer.Option("--port", metavar="N", min=1, max=65535,
                                             help="Destination port (tcp/udp).")] = None,
    size: Annotated[
        int | None, typer.Option("--size", metavar="N", min=28, max=65535,
                                 help="IP packet size with DF set (ping -M do -s N-28).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", metavar="text|json", help="Output format.")] = Format.TEXT,
    security_group: Annotated[
        list[str] | None,
        typer.Option("--security-group", metavar="HOST=FILE", help="A security-group export for a host (repeat)."),
    ] = None,
    no_security_groups: Annotated[
        bool, typer.Option("--no-security-groups", metavar="", help="Hosts without an export have no security "
                           "group (lab, bare metal) instead of an unknown one.")
    ] = False,
) -> None:
    """Trace a packet hop by hop: firewall, routes, VXLAN, security groups, and the reply.

    \b
    Examples:
      netsnap trace master.tgz node1.tgz --from master --to 172.18.5.2
      netsnap trace *.tgz --from master --to 192.168.0.16 --proto udp --port 8472
      netsnap trace *.tgz --from node1 --to 172.18.100.2 --size 1450

    Each step is marked: [+] permitted, [>] forwarded or encapsulated, [<] decapsulated, [~] NAT,
    [*] delivered, [.] note, [?] undecided, [x] stopped; the lines under a step are what it consulted
    (bundle file and line).

    Exit codes: 0 reachable, 1 unreachable or unknown, 2 usage error or unreadable input.
    """
    import json

    from netsnap.cli.common import current_limits, fail, load_snapshot_or_exit
    from netsnap.secgroups import SecGroupError, SecurityGroups, attach
    from netsnap.trace.engine import TraceEngine, TraceError

    if proto in (Proto.TCP, Proto.UDP) and port is None:
        fail(f"--port is required with --proto {proto.value}")
    snapshot = load_snapshot_or_exit(bundles)
    groups = SecurityGroups(default="open" if no_security_groups else "unknown")
    for spec in security_group or []:
        try:
            groups = attach(snapshot, spec, groups, current_limits())
        except SecGroupError as exc:
            fail(str(exc).splitlines()[0])
    try:
        result = TraceEngine(snapshot, groups).trace(src, dst, proto.value, port, size)
    except TraceError as exc:
        fail(str(exc))
    if fmt is Format.JSON:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        from rich.console import Console

        from netsnap.report.text import render_trace

        render_trace(result, Console(highlight=False))
    raise typer.Exit(code=0 if result.verdict == "reachable" else 1)


def register(app: typer.Typer) -> None:
    app.command("trace", cls=NetsnapCommand)(trace_command)
