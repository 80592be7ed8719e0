"""Netfilter traversal of one hook, as the kernel does it: every base chain of every enforced view
in priority order (see `netsnap.trace.hooks`), chain policies, user chains with jump/goto/RETURN,
the first terminal target wins, NAT and MARK applied.

Each base chain leaves one Step naming the rule or policy that decided; undecidable matches are
recorded as taints so the final verdict can say "unknown" when they could change the outcome.
iptables tables are one view each (`IptablesChain`); other views register a builder in
`VIEW_BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import ip_address

from netsnap.model.evidence import Evidence
from netsnap.model.iptables import IptRule
from netsnap.trace.hooks import (
    HOOKS,
    IPTABLES_PRIORITY,
    BaseChain,
    ChainOutcome,
    Decider,
    EgressSource,
    Unknown,
    check_key,
    settle_unknowns,
)
from netsnap.trace.index import NON_TERMINAL, ChainIndex, HostIndex, cached_evidence, evidence
from netsnap.trace.matching import Fork, RuleMatcher
from netsnap.trace.nft import nft_base_chains
from netsnap.trace.packet import Packet
from netsnap.trace.run import Run

MAX_DEPTH = 32
MAX_VISITS = 100_000  # rules one walk may visit (kube-proxy walks visit a handful through the chain index)
MAX_QUOTED = 64  # jump rules quoted per walk


def rule_evidence(host: str, rule: IptRule) -> Evidence:
    text = rule.raw or f"-A {rule.chain} ... (rule {rule.position})"
    return cached_evidence(host, rule.src.file, rule.src.line, text)


def rule_ref(rule: IptRule) -> str:
    return f"{rule.table} {rule.chain} rule {rule.position}"


@dataclass
class HookResult:
    """The fate of a packet at one hook. `verdict` is ACCEPT, DROP or REJECT."""

    verdict: str
    pkt: Packet
    detail: str = ""
    reject_with: str | None = None
    consulted: list[Evidence] = field(default_factory=list)
    decider: Decider | None = None
    check: str = ""


class _Frame:
    """One chain on the traversal stack: its candidate rule indexes and the next position."""

    __slots__ = ("cands", "ci", "pos")

    def __init__(self, ci: ChainIndex, cands: list[int]) -> None:
        self.ci = ci
        self.cands = cands
        self.pos = 0


def _mark(value: int, target_opts: dict[str, str]) -> int:
    for key in ("set-xmark", "set-mark", "or-mark", "and-mark", "xor-mark"):
        spec = target_opts.get(key)
        if spec is None:
            continue
        v_s, _, m_s = spec.partition("/")
        try:
            v = int(v_s, 0)
            m = int(m_s, 0) if m_s else 0xFFFFFFFF
        except ValueError:
            return value
        if key == "set-xmark":
            return (value & ~m & 0xFFFFFFFF) ^ v
        if key == "set-mark":
            return (value & ~m & 0xFFFFFFFF) | v
        if key == "or-mark":
            return value | v
        if key == "and-mark":
            return value & v
        return value ^ v
    return value


def _addr_port(spec: str) -> tuple[str, int | None]:
    """`10.0.0.1:80`, `10.0.0.1-10.0.0.5:80-90`, `:8080` -> (first address, first port)."""
    addr, _, port = spec.partition(":")
    addr = addr.split("-")[0]
    try:
        return addr, int(port.split("-")[0]) if port else None
    except ValueError:
        return addr, None


class IptablesChain:
    """A built-in chain of one iptables table in one view, as a base chain of its hook."""

    def __init__(self, hidx: HostIndex, matcher: RuleMatcher, view: str, table: str, hook: str, stage: str) -> None:
        self.hidx = hidx
        self.matcher = matcher
        self.view = view
        self.table = table
        self.hook = hook
        self.stage = stage
        self.chains = hidx.views[view]
        self.start = self.chains[(table, hook)]
        self.priority = IPTABLES_PRIORITY[(table, hook)]
        self.is_nat = table == "nat"
        # a fall-through ACCEPT of a filter chain is worth a step; raw/mangle/nat chains that only fell
        # through leave none (nothing happened there)
        self.shows_policy = bool(self.start.rules) and table in ("filter", "security")

    def is_noop(self, pkt: Packet) -> bool:
        ci = self.start
        return (not ci.candidates(pkt.src, pkt.dst) and ci.chain.policy != "DROP"
                and (not ci.rules or self.table not in ("filter", "security")))

    def _decider(self, rule: IptRule | None) -> Decider:
        if rule is None:
            return Decider(self.view, self.table, self.start.chain.name, None, self.start.policy_text)
        return Decider(self.view, self.table, rule.chain, rule.position, rule.raw)

    def _policy(self, pkt: Packet, consulted: list[Evidence]) -> ChainOutcome:
        ci = self.start
        consulted.append(evidence(self.hidx.name, ci.chain.src, ci.policy_text))
        verdict = "DROP" if ci.chain.policy == "DROP" else "ACCEPT"
        return ChainOutcome(verdict, pkt, ci.policy_detail, consulted, decider=self._decider(None))

    def evaluate(self, run: Run, pkt: Packet, egress_source: EgressSource) -> ChainOutcome:
        """Walk the chain (whose candidate rules for `pkt` are computed here) and the chains it jumps to."""
        start = self.start
        first = start.candidates(pkt.src, pkt.dst)
        if not first:  # no rule of the chain can match: its policy decides
            return self._policy(pkt, [])
        host = self.hidx.name
        table = self.table
        frames: list[_Frame] = [_Frame(start, first)]
        visits = 0
        unknown: list[Unknown] = []
        consulted: list[Evidence] = []
        outcome: ChainOutcome | None = None
        while frames:
            frame = frames[-1]
            pos = frame.pos
            if pos >= len(frame.cands):
                frames.pop()
                if not frames:
                    outcome = self._policy(pkt, consulted)
                continue
            frame.pos = pos + 1
            visits += 1
            if visits > MAX_VISITS:  # a walk no real ruleset needs: stop, undecided, rather than run for ever
                unknown.append(Unknown("-", f"{table} {start.chain.name}", f"more than {MAX_VISITS:,} rules "
                                       "visited in one walk", evidence(host, start.chain.src, start.policy_text)))
                outcome = self._policy(pkt, consulted)
                break
            rule = frame.ci.rules[frame.cands[pos]]
            if rule.target is None or rule.target.name in NON_TERMINAL:
                continue  # counting or logging rules cannot change the packet's fate
            res, why = self.matcher.match(rule, pkt)
            if isinstance(res, Fork):
                p = res.probability
                choice = run.choose([(p, f"{rule_ref(rule)} matches"), (1.0 - p, f"{rule_ref(rule)} does not match")])
                run.step(host, self.stage, "info",
                         f"-m statistic: {'matched' if choice == 0 else 'not matched'} "
                         f"(share {p if choice == 0 else 1 - p:.3g}) at {rule_ref(rule)}", [rule_evidence(host, rule)])
                res = choice == 0
            if res is None:
                unknown.append(Unknown(rule.target.name, rule_ref(rule), why, rule_evidence(host, rule)))
                continue
            if not res:
                continue
            target = rule.target
            tname = target.name
            if tname in ("ACCEPT", "DROP", "REJECT"):
                consulted.append(rule_evidence(host, rule))
                reject = target.options.get("reject-with", "icmp-port-unreachable") if tname == "REJECT" else None
                detail = f"{tname} by {rule_ref(rule)}" + (f" (--reject-with {reject})" if reject else "")
                outcome = ChainOutcome(tname, pkt, detail, consulted, reject, by_rule=True,
                                       decider=self._decider(rule))
                break
            if tname == "RETURN":
                frames.pop()
                consulted.append(rule_evidence(host, rule))
                if not frames:
                    outcome = self._policy(pkt, consulted)
                continue
            sub = self.chains.get((table, tname))
            if sub is not None:
                if len(consulted) < MAX_QUOTED:
                    consulted.append(rule_evidence(host, rule))  # the jump: part of why the packet got there
                if any(f.ci is sub for f in frames):
                    # iptables refuses to load a loop, so the dump is not a loaded ruleset: undecidable
                    unknown.append(Unknown(tname, rule_ref(rule), f"jump loop: {tname} is already being walked",
                                           rule_evidence(host, rule)))
                    continue
                if target.goto:
                    frames.pop()
                if len(frames) >= MAX_DEPTH:
                    unknown.append(Unknown(tname, rule_ref(rule), "chain nesting too deep (loop?)",
                                           rule_evidence(host, rule)))
                    continue
                sub_cands = sub.candidates(pkt.src, pkt.dst)
                if sub_cands:
                    frames.append(_Frame(sub, sub_cands))
                elif not frames:  # a goto to a chain none of whose rules can match: back to the policy
                    outcome = self._policy(pkt, consulted)
                continue
            if tname in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT"):
                consulted.append(rule_evidence(host, rule))
                new, note = self._nat(tname, target.options, pkt, egress_source)
                if new is None:
                    unknown.append(Unknown(tname, rule_ref(rule), note, rule_evidence(host, rule)))
                    continue
                detail = f"{tname} by {rule_ref(rule)}: {note}"
                outcome = ChainOutcome("ACCEPT", new, detail, consulted, nat=detail, by_rule=True,
                                       decider=self._decider(rule))
                break
            if tname == "MARK":
                pkt = pkt.with_(mark=_mark(pkt.mark, target.options))
                continue
            unknown.append(Unknown(tname, rule_ref(rule), f"target {tname} is neither a chain in {table} nor simulated",
                                   rule_evidence(host, rule)))
        if outcome is None:  # pragma: no cover - the loop always decides
            outcome = self._policy(pkt, consulted)
        if unknown:
            settle_unknowns(run, host, self.stage, outcome, unknown)
        return outcome

    def _nat(self, tname: str, opts: dict[str, str], pkt: Packet, egress_source: EgressSource
             ) -> tuple[Packet | None, str]:
        try:
            if tname == "DNAT":
                spec = opts.get("to-destination") or opts.get("to")
                if not spec:
                    return None, "DNAT without --to-destination"
                addr, port = _addr_port(spec)
                new = pkt.with_(dst=ip_address(addr), dport=port or pkt.dport)
                return new, f"destination {pkt.dst}{f':{pkt.dport}' if pkt.dport else ''} -> {spec}"
            if tname == "REDIRECT":
                port_s = opts.get("to-ports")
                local = self.hidx.primary_address(pkt.iif) if pkt.iif else None
                new_dst = local or ip_address("127.0.0.1")
                port = int(port_s.split("-")[0]) if port_s else pkt.dport
                return pkt.with_(dst=new_dst, dport=port), f"redirected to {new_dst}:{port}"
            if tname == "SNAT":
                spec = opts.get("to-source") or opts.get("to")
                if not spec:
                    return None, "SNAT without --to-source"
                addr, _ = _addr_port(spec)
                return pkt.with_(src=ip_address(addr)), f"source {pkt.src} -> {addr}"
            src = egress_source(pkt)
            if src is None:
                return None, f"MASQUERADE: no address on {pkt.oif}"
            return pkt.with_(src=src), f"source {pkt.src} -> {src} (MASQUERADE on {pkt.oif})"
        except ValueError as exc:
            return None, f"{tname} target not understood ({exc})"


def iptables_base_chains(hidx: HostIndex) -> list[BaseChain]:
    """The built-in chains of every enforced iptables view (see `netsnap.combine.firewall`)."""
    matcher = RuleMatcher(hidx.local_ips, hidx.host.ipsets)
    several = len(hidx.views) > 1
    out: list[BaseChain] = []
    for view, chains in hidx.views.items():
        for table, hook in IPTABLES_PRIORITY:
            if (table, hook) in chains:
                stage = f"{hook} {table}" + (f" [{view}]" if several else "")
                out.append(IptablesChain(hidx, matcher, view, table, hook, stage))
    return out


#: Builders of the base chains a view contributes; each takes a HostIndex.
VIEW_BUILDERS: list[Callable[[HostIndex], list[BaseChain]]] = [iptables_base_chains, nft_base_chains]


class Netfilter:
    """Runs hooks on one host: the base chains of every view, in priority order (stable: registration
    order breaks ties, as the kernel's does)."""

    def __init__(self, hidx: HostIndex) -> None:
        self.hidx = hidx
        chains = [c for build in VIEW_BUILDERS for c in build(hidx)]
        self.plan: dict[str, list[BaseChain]] = {
            hook: sorted((c for c in chains if c.hook == hook), key=lambda c: c.priority) for hook in HOOKS
        }
        self.has_rules = bool(chains)

    def hook(self, run: Run, hook: str, pkt: Packet, egress_source: EgressSource) -> HookResult:
        name = self.hidx.name
        hidx = self.hidx
        if not self.has_rules:
            if hidx.no_rules:
                return HookResult("ACCEPT", pkt)
            if hook in ("INPUT", "FORWARD", "OUTPUT"):
                reason = (f"{name}: the packet filter was not collected; {hook} filtering unknown (`iptables-save` "
                          f"and `nft list ruleset` on {name} would decide)")
                run.taint("deny", reason)
                run.step(name, f"{hook} filter", "unknown", reason)
            return HookResult("ACCEPT", pkt)
        if hidx.missing_views and hook in ("INPUT", "FORWARD", "OUTPUT"):
            reason = (f"{name}: {', '.join(hidx.missing_views)} tables are loaded but were not collected; "
                      f"{hook} filtering there unknown")
            run.taint("deny", reason)
            run.step(name, f"{hook} filter", "unknown", reason)
        consulted: list[Evidence] = []
        for chain in self.plan[hook]:
            if chain.is_nat and pkt.ctstate != "NEW":
                continue  # nat sees only the first packet of a connection
            if chain.is_noop(pkt):
                continue
            out = chain.evaluate(run, pkt, egress_source)
            pkt = out.pkt
            consulted.extend(out.consulted)
            if out.nat:
                run.step(name, chain.stage, "nat", out.nat, out.consulted)
                continue
            if out.verdict == "ACCEPT":
                if out.by_rule or chain.shows_policy:
                    run.step(name, chain.stage, "permit", out.detail, out.consulted)
                continue
            key = check_key(name, out.decider) if out.decider else f"{name}|nf|{chain.stage}"
            if run.bypassed(key):
                run.step(name, chain.stage, "info", f"{out.detail} (bypassed to look for further causes)",
                         out.consulted, key)
                continue
            run.step(name, chain.stage, "deny", out.detail, out.consulted, key, pkt.info())
            return HookResult(out.verdict, pkt, out.detail, out.reject_with, consulted, out.decider, key)
        return HookResult("ACCEPT", pkt, "", None, consulted)
