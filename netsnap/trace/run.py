"""The state of one trace run: steps taken, fork choices, and undecidable points ("taints").

A run is deterministic given its fork choices. The engine re-runs the trace with every
combination of choices (depth first) to produce one branch per outcome, each with its share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netsnap.model.evidence import Evidence
from netsnap.trace.result import PacketInfo, Step, StepAction, make_step


@dataclass(frozen=True)
class ForkPoint:
    choice: int
    options: int
    share: float
    label: str


@dataclass
class Taint:
    """An undecidable step. `could` says what the truth might have been instead of what the run
    assumed: "deny" (the run went on, but this step may drop the packet) or "pass" (the run
    stopped here, but the packet may pass)."""

    could: str
    reason: str
    check: str = ""


class TooManyHops(Exception):
    """Raised inside a run when the packet visits more hosts than any real path would."""


@dataclass
class Run:
    preset: list[int]
    first_src: str | None = None
    forks: list[ForkPoint] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    taints: list[Taint] = field(default_factory=list)
    visits: dict[tuple[str, str, str], int] = field(default_factory=dict)
    snat: dict[tuple[str, str], str] = field(default_factory=dict)  # (host, translated src) -> original src
    dnat: dict[tuple[str, str], str] = field(default_factory=dict)  # (host, new dst) -> original dst
    # checks (Step.check keys) that let the packet through anyway: the graph re-runs a blocked flow with
    # its blocker bypassed to find the next cause on the same path
    bypass: frozenset[str] = frozenset()
    assumptions: list[str] = field(default_factory=list)

    def choose(self, options: list[tuple[float, str]]) -> int:
        k = len(self.forks)
        choice = self.preset[k] if k < len(self.preset) else 0
        share, label = options[choice]
        self.forks.append(ForkPoint(choice, len(options), share, label))
        return choice

    @property
    def share(self) -> float:
        out = 1.0
        for f in self.forks:
            out *= f.share
        return out

    def step(
        self, host: str, stage: str, action: StepAction, detail: str, consulted: list[Evidence] | None = None,
        check: str = "", packet: PacketInfo | None = None,
    ) -> Step:
        s = make_step(host, stage, action, detail, consulted or [], check, packet)
        self.steps.append(s)
        return s

    def bypassed(self, check: str) -> bool:
        """True when the check that would stop the packet here is bypassed for this run."""
        return check in self.bypass

    def assume(self, host: str, stage: str, reason: str, consulted: list[Evidence] | None = None) -> None:
        """Use a fact the bundle implies but does not hold, and say so (on the step and the verdict)."""
        if reason in self.assumptions:
            return
        self.assumptions.append(reason)
        self.step(host, stage, "info", f"assumed: {reason}", consulted)

    def taint(self, could: str, reason: str, check: str = "") -> None:
        self.taints.append(Taint(could, reason, check))

    def visit(self, host: str, dst: str, iif: str, limit: int = 2) -> bool:
        """Count a visit; False when the packet came back to the same place (a loop)."""
        key = (host, dst, iif)
        self.visits[key] = self.visits.get(key, 0) + 1
        if sum(self.visits.values()) > 64:
            raise TooManyHops
        return self.visits[key] < limit
