"""Plain-text rendering of a TraceResult: hop by hop, with provenance."""

from __future__ import annotations

from netsnap.trace.result import Step, TraceResult

MARK = {"permit": "+", "deny": "x", "unknown": "?", "forward": ">", "encapsulate": ">", "decapsulate": "<",
        "deliver": "*", "nat": "~", "info": "."}


def _steps(steps: list[Step], indent: str) -> list[str]:
    out: list[str] = []
    for n, s in enumerate(steps, start=1):
        out.append(f"{indent}{n:>2}. [{MARK.get(s.action, ' ')}] {s.host:<12} {s.stage:<22} {s.detail}")
        for e in s.consulted:
            where = f"{e.file}:{e.line}" if e.line else (e.file or "-")
            out.append(f"{indent}         {where}  {e.text}")
    return out


def _one(r: TraceResult, indent: str, title: str) -> list[str]:
    what = f"{r.proto}{f' port {r.port}' if r.port else ''}{f' size {r.size}' if r.size else ''}"
    share = f" (share {r.share:.3g})" if r.share != 1.0 else ""
    lines = [f"{indent}{title}: {r.src_host} ({r.src_ip or '?'}) -> {r.dst_ip} {what}{share}",
             f"{indent}verdict: {r.verdict.upper()}  disposition: {r.disposition}",
             f"{indent}reason: {r.reason}", *_steps(r.hops, indent)]
    if r.reply is not None:
        lines.append(f"{indent}reply: {r.reply.verdict.upper()} ({r.reply.disposition}): {r.reply.reason}")
        lines.extend(_steps(r.reply.hops, indent + "  "))
    return lines


def render_text(result: TraceResult) -> str:
    """The whole result as text (branches one after another)."""
    if not result.branches:
        return "\n".join(_one(result, "", "trace")) + "\n"
    lines = [f"trace: {result.src_host} -> {result.dst_ip} {result.proto}: {len(result.branches)} branches",
             f"verdict: {result.verdict.upper()}  disposition: {result.disposition}", f"reason: {result.reason}"]
    for i, b in enumerate(result.branches, start=1):
        lines.append("")
        lines.extend(_one(b, "  ", f"branch {i}"))
    return "\n".join(lines) + "\n"
