"""The nftables view of a host's netfilter hooks: every native base chain, evaluated as the kernel does.

`nft_base_chains(hidx)` returns one `BaseChain` (netsnap.trace.hooks) per base chain that sees an
IPv4 packet on the routing path; `Netfilter.hook` runs them with the iptables views in priority order.

- Families: `ip` and `inet` tables see IPv4; `ip6` and `arp` tables never do and are left out.
  `netdev` ingress chains run before everything at PREROUTING (for packets arriving on their device),
  `netdev` egress chains after everything at POSTROUTING (leaving through it). `bridge` prerouting and
  input chains run before the IP hooks at PREROUTING for packets that arrive through a bridge (cni0,
  docker0), output and postrouting chains after them at POSTROUTING for packets leaving through one;
  bridge forward chains see only frames bridged between two ports (pod to pod on one node), which a
  routed trace does not take, and are left out.
- Tables iptables-nft made (`ip filter`, `ip nat`...) are what `iptables-nft-save` shows with every
  match option; when the host's iptables view is nf_tables-backed those tables are evaluated there and
  left out here (never twice). Otherwise (only a legacy dump, or none) they are evaluated here, and their
  `xt` expressions are undecidable.
- Traversal: rules in order; jump/goto/return with a call stack; accept ends the base chain, drop and
  reject end the packet, the end of a base chain applies its policy. nat chains see only NEW packets;
  dnat/snat/masquerade/redirect translate and end the chain. `meta mark set` changes the packet's mark.
  `numgen random mod N vmap {...}` forks the run, one branch per element. Undecidable expressions go
  through `settle_unknowns` with the expression quoted.
- firewalld: a deciding chain's zone is read from firewalld's chain names (`filter_IN_public_allow`,
  `filter_FWD_trusted`, `nat_POST_public`, 0.6-0.9's `filter_FWDI_public`...), so findings can name it.

When the bundle holds no nftables ruleset but the host shows signs of native tables (firewalld with its
nftables backend, iptables-nft-save's "incompatible table" warnings, a failed `nft list ruleset`), one
placeholder chain per filter hook makes the trace unknown instead of silently clean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import ip_address

from netsnap.model.evidence import Evidence
from netsnap.model.host import SourceState
from netsnap.model.nftables import NftChain, NftExpr, NftRule, NftRuleset, NftTable
from netsnap.trace.hooks import BaseChain, ChainOutcome, Decider, EgressSource, Unknown, settle_unknowns
from netsnap.trace.index import NON_TERMINAL, HostIndex, cached_evidence, evidence
from netsnap.trace.nft_match import MatchEnv, lookup, match_expr
from netsnap.trace.packet import Packet
from netsnap.trace.run import Run

MAX_DEPTH = 32
_HOOKS = {"prerouting": "PREROUTING", "input": "INPUT", "forward": "FORWARD", "output": "OUTPUT",
          "postrouting": "POSTROUTING"}
# offsets that put netdev and bridge hooks before (receive) or after (send) every IP-layer chain
_BEFORE_IP = -(1 << 40)
_AFTER_IP = 1 << 40
_ZONE_CHAIN = re.compile(
    r"^(?:filter|nat|mangle|raw)_(?:IN|FWD|FWDI|FWDO|OUT|PRE|POST)_(?P<zone>.+?)"
    r"(?:_(?:pre|log|deny|allow|post|rich_pre|rich_post))?$")
FIREWALLD_TABLES = frozenset({"firewalld", "firewalld_policy_drop"})


def firewalld_zone(chain: str) -> str | None:
    """The zone a firewalld chain belongs to (`filter_IN_public_allow` -> public), None for the
    dispatch chains (`filter_INPUT_ZONES`) and for policy chains (`filter_IN_policy_allow-host-ipv6`)."""
    m = _ZONE_CHAIN.match(chain)
    if m is None or m.group("zone").startswith("policy_") or m.group("zone") in ("ZONES", "ZONES_SOURCE"):
        return None
    return m.group("zone")


def view_of(table: NftTable) -> str:
    if table.name in FIREWALLD_TABLES:
        return "firewalld"
    return "iptables-nft" if table.compat else "nftables"


def iptables_covers_compat(hidx: HostIndex) -> bool:
    """True when an enforced iptables view shows iptables-nft's tables itself: the nf_tables-backed view,
    or a dump whose backend is not known (with compat tables in the nft dump, it is their rules again)."""
    return "iptables-nft" in hidx.views or "iptables" in hidx.views


@dataclass(frozen=True)
class _Placement:
    hook: str
    priority: int
    devices: tuple[str, ...] = ()  # netdev: the chain's devices (empty: not known)
    direction: str = ""  # "in": applies to packets arriving on the device/bridge, "out": leaving
    bridge: bool = False


def _placement(chain: NftChain, hidx: HostIndex) -> _Placement | None:
    prio = chain.priority if chain.priority is not None else 0
    fam, hook = chain.family, chain.hook or ""
    if fam in ("ip", "inet") and hook in _HOOKS:
        return _Placement(_HOOKS[hook], prio)
    if fam == "netdev" and hook in ("ingress", "egress"):
        if hook == "ingress":
            return _Placement("PREROUTING", _BEFORE_IP + prio, tuple(chain.devices), "in")
        return _Placement("POSTROUTING", _AFTER_IP + prio, tuple(chain.devices), "out")
    if fam == "bridge" and hook in ("prerouting", "input"):
        return _Placement("PREROUTING", _BEFORE_IP // 2 + prio + (1 << 20 if hook == "input" else 0), (), "in",
                          bridge=True)
    if fam == "bridge" and hook in ("output", "postrouting"):
        return _Placement("POSTROUTING", _AFTER_IP // 2 + prio + (1 << 20 if hook == "postrouting" else 0), (),
                          "out", bridge=True)
    return None  # ip6, arp, bridge forward, inet ingress: not on an IPv4 packet's routed path


def _decides(rule: NftRule) -> bool:
    """A rule that can change the packet's fate or fields (not only count or log); a statement not
    understood, or an iptables-nft target other than LOG-like ones, may."""
    for e in rule.exprs:
        if e.kind in ("verdict", "nat", "vmap", "mangle", "unknown") and e.verdict != "continue":
            return True
        if e.kind == "xt" and e.verdict == "target" and (e.value or "").upper() not in NON_TERMINAL:
            return True
    return False


class _Frame:
    """A chain on the traversal stack, and the jump/goto rule that entered it (None: the base chain)."""

    __slots__ = ("chain", "pos", "via")

    def __init__(self, chain: NftChain, via: NftRule | None = None) -> None:
        self.chain = chain
        self.pos = 0
        self.via = via


class NftBaseChain:
    """One nftables base chain at a netfilter hook (implements netsnap.trace.hooks.BaseChain)."""

    def __init__(self, hidx: HostIndex, table: NftTable, chain: NftChain, place: _Placement) -> None:
        self.hidx = hidx
        self.table = table
        self.chain = chain
        self.place = place
        self._view = view_of(table)
        self._stage = f"{place.hook} {table.family} {table.name} {chain.name}"
        self._reachable_decides = self._can_decide(chain, set())

    # -- BaseChain --------------------------------------------------------------------------------
    @property
    def view(self) -> str:
        return self._view

    @property
    def hook(self) -> str:
        return self.place.hook

    @property
    def priority(self) -> int:
        return self.place.priority

    @property
    def is_nat(self) -> bool:
        return self.chain.type == "nat"

    @property
    def stage(self) -> str:
        return self._stage

    @property
    def shows_policy(self) -> bool:
        return self.chain.type == "filter" and bool(self.chain.rules) and self.place.hook in ("INPUT", "FORWARD",
                                                                                              "OUTPUT")

    def is_noop(self, pkt: Packet) -> bool:
        if not self._applies(pkt):
            return True
        return self.chain.policy != "drop" and not self._reachable_decides

    def evaluate(self, run: Run, pkt: Packet, egress_source: EgressSource) -> ChainOutcome:
        if not self._applies(pkt):
            return ChainOutcome("ACCEPT", pkt, f"{self._name()}: not on this packet's device")
        unknown: list[Unknown] = []
        if self.place.devices == () and self.chain.family == "netdev":
            unknown.append(Unknown("ACCEPT", self._name(), "the chain's device is not in the dump (it drops only "
                                   "packets of that device)", self._policy_evidence()))
        outcome = self._walk(run, pkt, egress_source, unknown)
        if unknown:
            settle_unknowns(run, self.hidx.name, self._stage, outcome, unknown)
        return outcome

    # -- traversal --------------------------------------------------------------------------------
    def _applies(self, pkt: Packet) -> bool:
        place = self.place
        if not place.direction:
            return True
        dev = pkt.iif if place.direction == "in" else pkt.oif
        if place.bridge:
            return self.hidx.is_bridge(dev)
        if not place.devices:
            return True
        return dev in place.devices

    def _can_decide(self, chain: NftChain, seen: set[str]) -> bool:
        """Whether a rule of `chain` (or of a chain it jumps to) can drop, reject, queue, translate or
        mark a packet, or is not understood: otherwise the chain only accepts, which changes nothing."""
        if chain.name in seen:
            return False
        seen.add(chain.name)
        for rule in chain.rules:
            for e in rule.exprs:
                if e.kind in ("nat", "mangle", "vmap", "unknown", "xt"):
                    return True
                if e.kind == "verdict" and e.verdict in ("drop", "reject", "queue"):
                    return True
                sub = self.table.chains.get(e.target or "") if e.kind == "verdict" else None
                if sub is not None and self._can_decide(sub, seen):
                    return True
        return False

    def _name(self) -> str:
        return f"{self.table.family} {self.table.name} {self.chain.name}"

    def _policy_evidence(self) -> Evidence:
        c = self.chain
        text = (f"chain {c.name} {{ type {c.type} hook {c.hook} priority {c.priority_text}; "
                f"policy {c.policy or 'accept'}; }}")
        return evidence(self.hidx.name, c.src, text)

    def _rule_evidence(self, rule: NftRule) -> Evidence:
        return cached_evidence(self.hidx.name, rule.src.file, rule.src.line, rule.raw or rule.ref)

    def _decider(self, rule: NftRule | None) -> Decider:
        zone_chain = rule.chain if rule is not None else self.chain.name
        zone = firewalld_zone(zone_chain) if self._view == "firewalld" else None
        if rule is None:
            return Decider(self._view, f"{self.table.family} {self.table.name}", self.chain.name, None,
                           self._policy_evidence().text, zone)
        pos = rule.handle if rule.handle is not None else rule.position
        return Decider(self._view, f"{self.table.family} {self.table.name}", rule.chain, pos, rule.raw, zone)

    def _policy(self, pkt: Packet, consulted: list[Evidence]) -> ChainOutcome:
        policy = (self.chain.policy or "accept").upper()
        verdict = "DROP" if policy == "DROP" else "ACCEPT"
        consulted.append(self._policy_evidence())
        return ChainOutcome(verdict, pkt, f"no rule decided; {self._name()} policy {policy.lower()}", consulted,
                            decider=self._decider(None))

    def _walk(self, run: Run, pkt: Packet, egress_source: EgressSource, unknown: list[Unknown]) -> ChainOutcome:
        env = MatchEnv(self.hidx.name, self.place.hook, self.hidx.local_ips, self.table.sets, run,
                       bridge_family=self.place.bridge)
        frames = [_Frame(self.chain)]
        consulted: list[Evidence] = []
        while frames:
            frame = frames[-1]
            if frame.pos >= len(frame.chain.rules):
                frames.pop()  # the end of a regular chain returns; of the base chain, its policy applies
                continue
            rule = frame.chain.rules[frame.pos]
            frame.pos += 1
            if not _decides(rule):
                continue
            step = self._rule(run, rule, pkt, env, egress_source, unknown)
            if step is None:
                continue
            kind, value, new_pkt = step
            pkt = new_pkt
            if kind == "mark":
                continue
            if kind == "verdict":
                out = self._verdict(rule, value, pkt, frames, consulted, unknown)
                if out is not None:
                    return out
                continue
            # NAT: the translation ends the chain
            consulted.append(self._rule_evidence(rule))
            detail = f"{value} by {rule.ref}"
            return ChainOutcome("ACCEPT", pkt, detail, consulted, nat=detail, by_rule=True,
                                decider=self._decider(rule))
        return self._policy(pkt, consulted)

    def _verdict(self, rule: NftRule, verdict: str, pkt: Packet, frames: list[_Frame], consulted: list[Evidence],
                 unknown: list[Unknown]) -> ChainOutcome | None:
        word, _, target = verdict.partition(" ")
        if word in ("accept", "drop", "reject"):
            # why the packet got there: the jumps and gotos still on the stack (a zone's `goto`), then the rule
            consulted.extend(self._rule_evidence(f.via) for f in frames if f.via is not None)
            consulted.append(self._rule_evidence(rule))
            reject = _reject_of(rule) if word == "reject" else None
            how = f" (reject with {reject})" if reject else ""
            zone = firewalld_zone(rule.chain) if self._view == "firewalld" else None
            where = f" [{self._view}" + (f" zone {zone}]" if zone else "]")
            return ChainOutcome(word.upper(), pkt, f"{word.upper()} by {rule.ref}{how}{where}",
                                consulted, reject_with=reject, by_rule=True, decider=self._decider(rule))
        if word == "return":
            frames.pop()
            return None
        if word in ("jump", "goto"):
            sub = self.table.chains.get(target)
            if sub is None:
                unknown.append(Unknown(verdict, rule.ref, f"chain {target} is not in the dump",
                                       self._rule_evidence(rule)))
                return None
            if word == "goto":
                frames.pop()
            if len(frames) >= MAX_DEPTH:
                unknown.append(Unknown(verdict, rule.ref, "chain nesting too deep (loop?)", self._rule_evidence(rule)))
                return None
            frames.append(_Frame(sub, rule))
            return None
        if word == "queue":
            unknown.append(Unknown("DROP", rule.ref, "queue: a userspace program decides", self._rule_evidence(rule)))
            return None
        return None  # continue

    def _rule(self, run: Run, rule: NftRule, pkt: Packet, env: MatchEnv, egress_source: EgressSource,
              unknown: list[Unknown]) -> tuple[str, str, Packet] | None:
        """Run one rule's statements: None when it does not apply (no match, or undecidable: recorded),
        else ("verdict", text, pkt), ("nat", note, new pkt) or ("mark", "", new pkt)."""
        marked = False
        for expr in rule.exprs:
            kind = expr.kind
            if kind == "match":
                res, why = match_expr(expr, pkt, env)
                if res is False:
                    return ("mark", "", pkt) if marked else None
                if res is None:
                    unknown.append(Unknown(_target(rule), rule.ref, why, self._rule_evidence(rule)))
                    return ("mark", "", pkt) if marked else None
            elif kind == "xt" and expr.value == "comment" and expr.verdict is None:
                continue  # iptables-nft's `-m comment`: always matches
            elif kind in ("xt", "unknown", "limit"):
                why = {"xt": "an iptables-nft match this dump does not show", "unknown": "not understood",
                       "limit": "rate limits are not simulated"}[kind]
                unknown.append(Unknown(_target(rule), rule.ref, f"{why}: `{expr.text}`", self._rule_evidence(rule)))
                return ("mark", "", pkt) if marked else None
            elif kind == "mangle":
                new = _mangle(expr, pkt)
                if new is None:
                    unknown.append(Unknown("MARK", rule.ref, f"the new value is not simulated: `{expr.text}`",
                                           self._rule_evidence(rule)))
                    continue
                pkt, marked = new, True
            elif kind == "vmap":
                verdict = self._vmap(run, rule, expr, pkt, env, unknown)
                if verdict is None:
                    return ("mark", "", pkt) if marked else None
                return "verdict", verdict, pkt
            elif kind == "verdict":
                return "verdict", (f"{expr.verdict} {expr.target}" if expr.target else str(expr.verdict)), pkt
            elif kind == "nat":
                if self.chain.type != "nat":
                    continue
                new_pkt, note = _nat(expr, pkt, self.hidx, egress_source)
                if new_pkt is None:
                    unknown.append(Unknown("ACCEPT", rule.ref, note, self._rule_evidence(rule)))
                    return None
                return "nat", f"{expr.verdict} ({note})", new_pkt
        return ("mark", "", pkt) if marked else None

    def _vmap(self, run: Run, rule: NftRule, expr: NftExpr, pkt: Packet, env: MatchEnv,
              unknown: list[Unknown]) -> str | None:
        if expr.left and expr.left[0].startswith("numgen random mod "):
            return self._numgen(run, rule, expr)
        verdict, why = lookup(expr, pkt, env)
        if verdict is None:
            unknown.append(Unknown(_target(rule), rule.ref, why, self._rule_evidence(rule)))
            return None
        return verdict or None

    def _numgen(self, run: Run, rule: NftRule, expr: NftExpr) -> str | None:
        """`numgen random mod N vmap { 0 : goto A, ... }`: one branch per element, each with 1/N of the flows."""
        try:
            mod = int(expr.left[0].split()[3])
        except (IndexError, ValueError):
            return None
        pairs = list(expr.mapping)
        if not pairs or mod <= 0:
            return None
        choice = run.choose([(1.0 / mod, f"{rule.ref}: {v}") for _, v in pairs])
        run.step(self.hidx.name, self._stage, "info", f"numgen random: {pairs[choice][1]} "
                 f"(share 1/{mod}) at {rule.ref}", [self._rule_evidence(rule)])
        return pairs[choice][1]


def _target(rule: NftRule) -> str:
    """What a rule would have done, as `settle_unknowns` compares it: ACCEPT, DROP, REJECT or the verdict."""
    for e in rule.exprs:
        if e.kind == "xt" and e.verdict == "target":
            return (e.value or "").upper()
        if e.kind == "verdict" and e.verdict in ("accept", "drop", "reject"):
            return e.verdict.upper()
        if e.kind == "verdict" and e.verdict:
            return f"{e.verdict} {e.target}" if e.target else e.verdict
        if e.kind == "nat":
            return "ACCEPT"
        if e.kind == "vmap":
            return "vmap"
    return ""


def _reject_of(rule: NftRule) -> str:
    for e in rule.exprs:
        if e.kind == "verdict" and e.verdict == "reject":
            return e.reject_with or "icmpx port-unreachable"
    return "icmpx port-unreachable"  # a vmap's `reject`


def _mangle(expr: NftExpr, pkt: Packet) -> Packet | None:
    if expr.left == ["meta mark"] and expr.value is not None:
        try:
            return pkt.with_(mark=int(expr.value, 0) & 0xFFFFFFFF)
        except ValueError:
            return None
    return pkt  # ct mark, priority, nftrace...: nothing the trace reads


def _nat(expr: NftExpr, pkt: Packet, hidx: HostIndex, egress_source: EgressSource) -> tuple[Packet | None, str]:
    kind = expr.verdict
    if not expr.known:
        return None, f"{kind} target not understood: `{expr.text}`"
    try:
        port = int(expr.port.split("-")[0]) if expr.port else None
    except ValueError:
        return None, f"{kind} port {expr.port} not understood"
    try:
        if kind == "dnat":
            addr = ip_address((expr.addr or "").split("-")[0])
            new = pkt.with_(dst=addr, dport=port or pkt.dport)
            return new, f"destination {pkt.dst}{f':{pkt.dport}' if pkt.dport else ''} -> {addr}" + (
                f":{port}" if port else "")
        if kind == "snat":
            addr = ip_address((expr.addr or "").split("-")[0])
            return pkt.with_(src=addr), f"source {pkt.src} -> {addr}"
        if kind == "redirect":
            local = hidx.primary_address(pkt.iif) if pkt.iif else None
            new_dst = local or ip_address("127.0.0.1")
            return pkt.with_(dst=new_dst, dport=port or pkt.dport), f"redirected to {new_dst}:{port or pkt.dport}"
    except ValueError as exc:
        return None, f"{kind} address not understood ({exc})"
    src = egress_source(pkt)
    if src is None:
        return None, f"masquerade: no address on {pkt.oif}"
    return pkt.with_(src=src), f"source {pkt.src} -> {src} (masquerade on {pkt.oif})"


class _NotCollected:
    """A placeholder at a filter hook: the host may have native nftables tables the bundle lacks."""

    def __init__(self, hidx: HostIndex, hook: str, why: str, ev: Evidence) -> None:
        self.hidx = hidx
        self._hook = hook
        self.why = why
        self.ev = ev

    @property
    def view(self) -> str:
        return "nftables"

    @property
    def hook(self) -> str:
        return self._hook

    @property
    def priority(self) -> int:
        return 10  # firewalld's base chains sit at filter + 10

    @property
    def is_nat(self) -> bool:
        return False

    @property
    def stage(self) -> str:
        return f"{self._hook} nftables"

    @property
    def shows_policy(self) -> bool:
        return False

    def is_noop(self, pkt: Packet) -> bool:
        return False

    def evaluate(self, run: Run, pkt: Packet, egress_source: EgressSource) -> ChainOutcome:
        reason = f"{self.hidx.name}: {self.why}; {self._hook} filtering by nftables unknown"
        run.taint("deny", reason)
        run.step(self.hidx.name, self.stage, "unknown", reason, [self.ev])
        return ChainOutcome("ACCEPT", pkt, reason, [self.ev])


def _missing_reason(hidx: HostIndex) -> tuple[str, Evidence] | None:
    """Why native nftables tables may exist although the bundle has no ruleset (None: no sign of them)."""
    host = hidx.host
    for sid in ("nft_json", "nft_text"):
        st = host.sources.get(sid)
        if st is not None and st.state in (SourceState.FAILED, SourceState.TIMED_OUT, SourceState.UNREADABLE):
            return (f"`{st.command or sid}` {st.state.value}",
                    Evidence(host=host.name, file=st.file or "", text=f"{st.command or sid}: {st.state.value}"))
    for rs in host.iptables.values():
        for w in rs.warnings:
            if "incompatible" in w:
                return (f"{rs.variant}-save says: {w}", Evidence(host=host.name, file=rs.file, text=f"# {w}"))
    fw = host.firewalld
    if fw is not None and fw.uses_nftables():
        return (f"firewalld {fw.describe_backend()} but the nftables ruleset was not collected",
                Evidence(host=host.name, file=fw.file or "", text=fw.describe_backend()))
    return None


def nft_base_chains(hidx: HostIndex) -> list[BaseChain]:
    """The view builder: every nftables base chain of the host that an IPv4 packet meets."""
    rs: NftRuleset | None = hidx.host.nftables
    if rs is None:
        missing = _missing_reason(hidx)
        if missing is None:
            return []
        why, ev = missing
        return [_NotCollected(hidx, hook, why, ev) for hook in ("INPUT", "FORWARD", "OUTPUT")]
    skip_compat = iptables_covers_compat(hidx)
    out: list[BaseChain] = []
    for table in rs.tables.values():
        if table.compat and skip_compat:
            continue
        if "dormant" in table.flags:
            continue  # a dormant table's chains are not registered
        for chain in table.chains.values():
            if not chain.base:
                continue
            place = _placement(chain, hidx)
            if place is not None:
                out.append(NftBaseChain(hidx, table, chain, place))
    out.sort(key=lambda c: c.priority)
    return out

