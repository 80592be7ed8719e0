"""Netfilter traversal of one hook, as the kernel does it: tables in priority order, chain
policies, user chains with jump/goto/RETURN, the first terminal target wins, NAT and MARK applied.

Each table leaves one Step naming the rule or policy that decided; undecidable matches are
recorded as taints so the final verdict can say "unknown" when they could change the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_address

from netsnap.model.evidence import Evidence
from netsnap.model.iptables import IptRule
from netsnap.trace.index import NON_TERMINAL, ChainIndex, HostIndex, cached_evidence, evidence
from netsnap.trace.matching import Fork, RuleMatcher
from netsnap.trace.packet import Packet
from netsnap.trace.result import StepAction
from netsnap.trace.run import Run

HOOK_TABLES: dict[str, tuple[str, ...]] = {
    "PREROUTING": ("raw", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "security", "nat"),
    "FORWARD": ("mangle", "filter", "security"),
    "OUTPUT": ("raw", "mangle", "nat", "filter", "security"),
    "POSTROUTING": ("mangle", "nat"),
}
MAX_DEPTH = 32


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


@dataclass
class _TableOutcome:
    verdict: str
    pkt: Packet
    detail: str
    consulted: list[Evidence]
    reject_with: str | None = None
    nat: str | None = None
    by_rule: bool = False


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


class Netfilter:
    """Runs hooks on one host. `egress_source` answers MASQUERADE's "address of the out interface"."""

    def __init__(self, hidx: HostIndex) -> None:
        self.hidx = hidx
        self.matcher = RuleMatcher(hidx.local_ips, hidx.host.ipsets)
        # per hook, the (table, chain index, stage label) that exist on this host, in priority order
        self.plan: dict[str, list[tuple[str, ChainIndex, str]]] = {
            hook: [(t, hidx.chains[(t, hook)], f"{hook} {t}") for t in tables if (t, hook) in hidx.chains]
            for hook, tables in HOOK_TABLES.items()
        }

    def hook(
        self, run: Run, hook: str, pkt: Packet, egress_source: Callable[[Packet], IPv4Address | None]
    ) -> HookResult:
        name = self.hidx.name
        if not self.hidx.has_iptables:
            if self.hidx.no_rules:
                return HookResult("ACCEPT", pkt)
            if hook in ("INPUT", "FORWARD", "OUTPUT"):
                reason = f"{name}: iptables rules not in the bundle; {hook} filtering unknown"
                run.taint("deny", reason)
                run.step(name, f"{hook} filter", "unknown", reason)
            return HookResult("ACCEPT", pkt)
        consulted: list[Evidence] = []
        for table, ci, stage in self.plan[hook]:
            if table == "nat" and pkt.ctstate != "NEW":
                continue  # nat sees only the first packet of a connection
            cands = ci.candidates(pkt.src, pkt.dst)
            if not cands and ci.chain.policy != "DROP" and (not ci.rules or table not in ("filter", "security")):
                # no rule can match and the policy accepts: the same as below, without the outcome and no step
                consulted.append(evidence(name, ci.chain.src, ci.policy_text))
                continue
            out = self._table(run, table, hook, ci, cands, pkt, egress_source)
            pkt = out.pkt
            consulted.extend(out.consulted)
            if out.nat:
                run.step(name, stage, "nat", out.nat, out.consulted)
            elif out.verdict != "ACCEPT" or (ci.rules and (table in ("filter", "security") or out.by_rule)):
                # raw/mangle/nat chains that only fell through to ACCEPT leave no step (nothing happened)
                action: StepAction = "permit" if out.verdict == "ACCEPT" else "deny"
                run.step(name, stage, action, out.detail, out.consulted)
            if out.verdict != "ACCEPT":
                return HookResult(out.verdict, pkt, out.detail, out.reject_with, consulted)
        return HookResult("ACCEPT", pkt, "", None, consulted)

    def _policy(self, ci: ChainIndex, pkt: Packet, consulted: list[Evidence]) -> _TableOutcome:
        chain = ci.chain
        consulted.append(evidence(self.hidx.name, chain.src, ci.policy_text))
        verdict = "DROP" if chain.policy == "DROP" else "ACCEPT"
        return _TableOutcome(verdict, pkt, ci.policy_detail, consulted)

    def _table(
        self, run: Run, table: str, hook: str, start: ChainIndex, first: list[int], pkt: Packet,
        egress_source: Callable[[Packet], IPv4Address | None],
    ) -> _TableOutcome:
        """Walk `start` (whose candidate rules for `pkt` are `first`) and the chains it jumps to."""
        if not first:  # no rule of the chain can match: its policy decides
            return self._policy(start, pkt, [])
        host = self.hidx.name
        frames: list[_Frame] = [_Frame(start, first)]
        unknown: list[tuple[IptRule, str]] = []
        consulted: list[Evidence] = []
        outcome: _TableOutcome | None = None
        while frames:
            frame = frames[-1]
            pos = frame.pos
            if pos >= len(frame.cands):
                frames.pop()
                if not frames:
                    outcome = self._policy(start, pkt, consulted)
                continue
            frame.pos = pos + 1
            rule = frame.ci.rules[frame.cands[pos]]
            if rule.target is None or rule.target.name in NON_TERMINAL:
                continue  # counting or logging rules cannot change the packet's fate
            res, why = self.matcher.match(rule, pkt)
            if isinstance(res, Fork):
                p = res.probability
                choice = run.choose([(p, f"{rule_ref(rule)} matches"), (1.0 - p, f"{rule_ref(rule)} does not match")])
                run.step(host, f"{hook} {table}", "info",
                         f"-m statistic: {'matched' if choice == 0 else 'not matched'} "
                         f"(share {p if choice == 0 else 1 - p:.3g}) at {rule_ref(rule)}", [rule_evidence(host, rule)])
                res = choice == 0
            if res is None:
                if rule.target is not None:
                    unknown.append((rule, why))
                continue
            if not res or rule.target is None:
                continue
            target = rule.target
            tname = target.name
            if tname in ("ACCEPT", "DROP", "REJECT"):
                consulted.append(rule_evidence(host, rule))
                reject = target.options.get("reject-with", "icmp-port-unreachable") if tname == "REJECT" else None
                detail = f"{tname} by {rule_ref(rule)}" + (f" (--reject-with {reject})" if reject else "")
                outcome = _TableOutcome(tname, pkt, detail, consulted, reject, by_rule=True)
                break
            if tname == "RETURN":
                frames.pop()
                if not frames:
                    consulted.append(rule_evidence(host, rule))
                    outcome = self._policy(start, pkt, consulted)
                continue
            sub = self.hidx.chains.get((table, tname))
            if sub is not None:
                if target.goto:
                    frames.pop()
                if len(frames) >= MAX_DEPTH:
                    unknown.append((rule, "chain nesting too deep (loop?)"))
                    continue
                sub_cands = sub.candidates(pkt.src, pkt.dst)
                if sub_cands:
                    frames.append(_Frame(sub, sub_cands))
                elif not frames:  # a goto to a chain none of whose rules can match: back to the policy
                    outcome = self._policy(start, pkt, consulted)
                continue
            if tname in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT"):
                consulted.append(rule_evidence(host, rule))
                new, note = self._nat(tname, target.options, pkt, egress_source)
                if new is None:
                    unknown.append((rule, note))
                    continue
                outcome = _TableOutcome("ACCEPT", new, f"{tname} by {rule_ref(rule)}: {note}", consulted, nat=note)
                outcome.detail = f"{tname} by {rule_ref(rule)}: {note}"
                outcome.nat = outcome.detail
                break
            if tname == "MARK":
                pkt = pkt.with_(mark=_mark(pkt.mark, target.options))
                continue
            if tname in NON_TERMINAL:
                continue
            unknown.append((rule, f"target {tname} is neither a chain in {table} nor simulated"))
        if outcome is None:  # pragma: no cover - the loop always decides
            outcome = self._policy(start, pkt, consulted)
        if unknown:
            self._settle_unknowns(run, host, table, hook, outcome, unknown)
        return outcome

    def _settle_unknowns(
        self, run: Run, host: str, table: str, hook: str, outcome: _TableOutcome, unknown: list[tuple[IptRule, str]]
    ) -> None:
        relevant: list[tuple[IptRule, str]] = []
        for rule, why in unknown:
            tname = rule.target.name if rule.target else ""
            if outcome.verdict == "ACCEPT" and tname == "ACCEPT" and not outcome.nat:
                continue  # it could only have accepted too
            if outcome.verdict in ("DROP", "REJECT") and tname in ("DROP", "REJECT"):
                continue  # it could only have denied too
            relevant.append((rule, why))
        if not relevant:
            return
        could = "deny" if outcome.verdict == "ACCEPT" else "pass"
        for rule, why in relevant:
            reason = f"{host}: {rule_ref(rule)} may match ({why}); target {rule.target.name if rule.target else '-'}"
            run.taint(could, reason)
        rule, why = relevant[0]
        more = f" (and {len(relevant) - 1} more)" if len(relevant) > 1 else ""
        run.step(host, f"{hook} {table}", "unknown", f"undecidable: {rule_ref(rule)}: {why}{more}",
                 [rule_evidence(host, r) for r, _ in relevant[:5]])

    def _nat(
        self, tname: str, opts: dict[str, str], pkt: Packet, egress_source: Callable[[Packet], IPv4Address | None]
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
