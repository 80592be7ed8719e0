"""What a packet-filter view contributes to a netfilter hook: base chains, each with a priority.

The kernel runs, at every hook, every registered base chain in ascending priority order, whatever
table or family registered it: iptables' tables (legacy and nft-backed alike) at their fixed
priorities, and native nftables base chains at the priority they declare. A DROP or REJECT in any
base chain ends the packet; an ACCEPT ends only that base chain (the next one still runs). NAT
chains see only the first packet of a connection.

Every view (iptables tables in `netsnap.trace.netfilter`, nftables in `netsnap.trace.nft`)
implements `BaseChain`; `Netfilter.hook` orders and runs them. Undecidable matches are settled with
`settle_unknowns`, so every view turns "may match" into the same taints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Protocol

from netsnap.model.evidence import Evidence
from netsnap.trace.packet import Packet
from netsnap.trace.run import Run

HOOKS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")

#: iptables' fixed priorities (include/uapi/linux/netfilter_ipv4.h, enum nf_ip_hook_priorities).
IPTABLES_PRIORITY: dict[tuple[str, str], int] = {
    ("raw", "PREROUTING"): -300, ("raw", "OUTPUT"): -300,
    ("mangle", "PREROUTING"): -150, ("mangle", "INPUT"): -150, ("mangle", "FORWARD"): -150,
    ("mangle", "OUTPUT"): -150, ("mangle", "POSTROUTING"): -150,
    ("nat", "PREROUTING"): -100, ("nat", "OUTPUT"): -100,
    ("filter", "INPUT"): 0, ("filter", "FORWARD"): 0, ("filter", "OUTPUT"): 0,
    ("security", "INPUT"): 50, ("security", "FORWARD"): 50, ("security", "OUTPUT"): 50,
    ("nat", "INPUT"): 100, ("nat", "POSTROUTING"): 100,
}

EgressSource = Callable[[Packet], IPv4Address | None]
"""MASQUERADE's question: the source address the kernel picks on the packet's out interface."""


@dataclass(frozen=True)
class Decider:
    """The rule (or policy) that decided a base chain, as findings name it: the view (`iptables-nft`,
    `iptables-legacy`, `nftables`, `firewalld`, `ufw`...), the table (`filter`, `inet firewalld`), the chain,
    the rule's position or nft handle (None for a policy), its text, and the firewalld zone when the chain
    belongs to one."""

    view: str
    table: str
    chain: str
    position: int | None
    text: str
    zone: str | None = None


def check_key(host: str, decider: Decider) -> str:
    """The stable key of a netfilter decision (a Step's `check`): host, view, table, chain, rule."""
    where = "policy" if decider.position is None else str(decider.position)
    return f"{host}|nf|{decider.view}|{decider.table}|{decider.chain}|{where}"


@dataclass(frozen=True)
class NfCheck:
    """A netfilter check key read back: host, view, table, chain, rule position (None: the policy)."""

    host: str
    view: str
    table: str
    chain: str
    position: int | None


def parse_check(key: str) -> NfCheck | None:
    """The parts of a netfilter check key (`check_key`); None for other checks."""
    parts = key.split("|")
    if len(parts) != 6 or parts[1] != "nf":
        return None
    host, _, view, table, chain, where = parts
    return NfCheck(host, view, table, chain, None if where == "policy" else int(where))


@dataclass
class ChainOutcome:
    """How one base chain treated a packet. `verdict` is ACCEPT, DROP or REJECT; `pkt` is the packet after
    any NAT or mark; `detail` names the rule or policy that decided; `nat` is set when a NAT rule rewrote the
    packet; `by_rule` is False when no rule decided (policy or fall-through); `decider` names what decided."""

    verdict: str
    pkt: Packet
    detail: str
    consulted: list[Evidence] = field(default_factory=list)
    reject_with: str | None = None
    nat: str | None = None
    by_rule: bool = False
    decider: Decider | None = None


class BaseChain(Protocol):
    """One base chain registered at a hook, by any view."""

    @property
    def view(self) -> str:
        """The ruleset it belongs to: `iptables-nft`, `iptables-legacy`, `iptables`, `nftables`, ..."""

    @property
    def hook(self) -> str:
        """PREROUTING, INPUT, FORWARD, OUTPUT or POSTROUTING."""

    @property
    def priority(self) -> int:
        """The netfilter priority (lower runs first)."""

    @property
    def is_nat(self) -> bool:
        """A NAT chain: it sees only NEW packets."""

    @property
    def stage(self) -> str:
        """The trace step's label, e.g. `INPUT filter` or `INPUT inet firewalld filter_INPUT`."""

    @property
    def shows_policy(self) -> bool:
        """True when a fall-through ACCEPT is worth a trace step (a filter chain holding rules)."""

    def is_noop(self, pkt: Packet) -> bool:
        """True when no rule of the chain can match `pkt` and the chain's policy accepts (fast skip)."""

    def evaluate(self, run: Run, pkt: Packet, egress_source: EgressSource) -> ChainOutcome:
        """Run the chain (and the chains it jumps to) for `pkt`; taint the run where a match is undecidable."""


@dataclass(frozen=True)
class Unknown:
    """A rule whose match could not be decided: what it would have done (`target`), where it is, why."""

    target: str
    ref: str
    why: str
    evidence: Evidence


def settle_unknowns(run: Run, host: str, stage: str, outcome: ChainOutcome, unknown: list[Unknown]) -> None:
    """Turn undecidable rules into taints when they could have changed `outcome` (an unknown ACCEPT
    cannot change an ACCEPT; an unknown DROP cannot change a DROP), and leave one step naming them."""
    relevant: list[Unknown] = []
    for u in unknown:
        if outcome.verdict == "ACCEPT" and u.target == "ACCEPT" and not outcome.nat:
            continue
        if outcome.verdict in ("DROP", "REJECT") and u.target in ("DROP", "REJECT"):
            continue
        relevant.append(u)
    if not relevant:
        return
    could = "deny" if outcome.verdict == "ACCEPT" else "pass"
    for u in relevant:
        run.taint(could, f"{host}: {u.ref} may match ({u.why}); target {u.target or '-'}")
    first = relevant[0]
    more = f" (and {len(relevant) - 1} more)" if len(relevant) > 1 else ""
    run.step(host, stage, "unknown", f"undecidable: {first.ref}: {first.why}{more}",
             [u.evidence for u in relevant[:5]])
