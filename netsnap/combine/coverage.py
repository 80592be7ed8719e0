"""Which facts each host holds: a fact is present when any source that carries it was read and
understood (`SourceStatus.understood`). Absent facts say which sources could have supplied them and
how each fared, so "not evaluated" can name what would decide it."""

from __future__ import annotations

from dataclasses import dataclass, field

from netsnap.model import Host, SourceStatus
from netsnap.sources import BY_ID, FACTS, SOS_ONLY_SOURCES, SOURCES, Source

_ALL: tuple[Source, ...] = (*SOURCES, *SOS_ONLY_SOURCES)
CARRIERS: dict[str, tuple[str, ...]] = {
    fact: tuple(s.id for s in _ALL if fact in s.facts) for fact in FACTS
}


@dataclass
class FactStatus:
    """One fact of one host: present or not, the sources that supplied it, and why the others did not."""

    fact: str
    present: bool
    by: list[str] = field(default_factory=list)
    why_not: list[str] = field(default_factory=list)

    def reason(self) -> str:
        """`routes: ip_route: partly understood (3 of 40 lines understood in routes/ip-route); route_n: not
        collected` — one line naming every source that could have supplied the fact."""
        return f"{self.fact} ({FACTS[self.fact]}): " + "; ".join(self.why_not)


def _why(sid: str, st: SourceStatus | None) -> str:
    if st is None:
        return f"{sid}: not collected"
    if st.usable and not st.understood:
        return f"{sid}: partly understood ({st.coverage})"
    note = f" ({st.notes[0]})" if st.notes and not st.usable else ""
    return f"{sid}: {st.state.value}{note}"


def fact_status(host: Host, fact: str) -> FactStatus:
    """Whether `host` holds `fact`, and from which sources."""
    by: list[str] = []
    why: list[str] = []
    for sid in CARRIERS[fact]:
        st = host.sources.get(sid)
        if st is not None and st.understood:
            by.append(sid)
        elif sid in BY_ID or st is not None:  # sosreport-only sources are named only when the bundle has them
            why.append(_why(sid, st))
    return FactStatus(fact, bool(by), by, why)


def facts_of(host: Host) -> dict[str, FactStatus]:
    """Every fact's status for `host`."""
    return {fact: fact_status(host, fact) for fact in FACTS}


def present(host: Host) -> frozenset[str]:
    """The facts `host` holds."""
    return frozenset(f for f, st in facts_of(host).items() if st.present)
