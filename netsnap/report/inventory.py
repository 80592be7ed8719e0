"""Per-host inventory tables for the report appendix, as plain rows of strings.

Capped by default so a report stays small enough to attach to a ticket (a 100k-rule node stays under
5 MB): `Caps.default()` keeps the first rows of each table and the start of each raw file, and every cut
is said in `omitted` ("9,600 more routes: in the bundle; --full-appendix embeds them"). `Caps.full()`
keeps everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from netsnap.model import FlannelConfig, Host

MAX_FLANNEL_EVENTS = 6
BUILTIN_CHAINS = ("INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING")
NO_CAP = 1 << 62

Row = tuple[str, ...]


@dataclass(frozen=True)
class Caps:
    """How much of each host's inventory the report embeds."""

    routes: int
    interfaces: int
    chains: int
    rules_per_chain: int
    rule_rows: int
    unparsed: int
    raw_chars: int
    raw_chars_per_host: int

    @classmethod
    def default(cls) -> Caps:
        return cls(routes=300, interfaces=200, chains=200, rules_per_chain=100, rule_rows=1500, unparsed=300,
                   raw_chars=48 * 1024, raw_chars_per_host=384 * 1024)

    @classmethod
    def full(cls) -> Caps:
        return cls(*(NO_CAP,) * 8)

    @property
    def capped(self) -> bool:
        return self.routes != NO_CAP


@dataclass(frozen=True)
class ChainView:
    ruleset: str
    table: str
    chain: str
    policy: str
    counters: str
    rules: list[Row]
    hidden: int
    src: str


@dataclass(frozen=True)
class RawFile:
    name: str
    size: int
    text: str
    truncated: bool


@dataclass
class HostInventory:
    name: str
    anchor: str
    identity: list[Row] = field(default_factory=list)
    sources: list[Row] = field(default_factory=list)
    interfaces: list[Row] = field(default_factory=list)
    routes: list[Row] = field(default_factory=list)
    policy_rules: list[Row] = field(default_factory=list)
    chains: list[ChainView] = field(default_factory=list)
    flannel_flags: list[Row] = field(default_factory=list)
    flannel_notes: list[str] = field(default_factory=list)
    flannel_files: list[Row] = field(default_factory=list)
    sysctls: list[Row] = field(default_factory=list)
    unparsed: list[Row] = field(default_factory=list)
    raw_files: list[RawFile] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)  # what the caps left out, one sentence each


def _flag_cell(cfg: FlannelConfig | None, name: str) -> str:
    if cfg is None:
        return "(not known)"
    fv = cfg.flags.get(name)
    return f"{fv.value}  [{fv.via}, {fv.src}]" if fv else "(default)"


def _flannel(host: Host, inv: HostInventory) -> None:
    fl = host.flannel
    files, proc = fl.files_config, fl.process_config
    names = sorted(set(files.flags if files else {}) | set(proc.flags if proc else {}))
    for name in names:
        a, b = _flag_cell(files, name), _flag_cell(proc, name)
        va = files.get(name) if files else None
        vb = proc.get(name) if proc else None
        differs = "differs" if files and proc and va != vb else ""
        inv.flannel_flags.append((name, a, b, differs))
    for label, cfg in (("files", files), ("process", proc)):
        if cfg is None:
            continue
        if cfg.ignored:
            inv.flannel_notes.append(f"{label}: arguments flanneld never read: {' '.join(cfg.ignored)}")
        for sh in cfg.shadowed:
            inv.flannel_notes.append(f"{label}: {sh.name}={sh.value} ({sh.src}) overridden by a command-line flag")
        inv.flannel_notes.extend(f"{label}: {p}" for p in cfg.problems)
    chosen = [e for e in fl.events if e.kind in ("iface-chosen", "external-address")]
    for ev in chosen[-MAX_FLANNEL_EVENTS:]:
        inv.flannel_notes.append(f"journal {ev.src}: {ev.message}")
    if fl.subnet_env is not None:
        se = fl.subnet_env
        for k in sorted(se.values):
            line = se.lines.get(k, 0)
            inv.flannel_files.append((se.src.file, k, se.values[k], str(line) if line else ""))
    if fl.net_conf is not None:
        nc = fl.net_conf
        inv.flannel_files.append(
            (nc.src.file, "Network / Backend", f"{nc.network} {nc.backend_type} vni={nc.vni} port={nc.port}", "")
        )
    for path in sorted(fl.env_files):
        for k in sorted(fl.env_files[path]):
            fv = fl.env_files[path][k]
            inv.flannel_files.append((path, k, fv.value, str(fv.src.line or "")))


def _more(n: int, what: str) -> str:
    return f"{n:,} more {what}: in the bundle; --full-appendix embeds them"


def host_inventory(index: int, host: Host, raw: Mapping[str, str] | None = None,
                   caps: Caps | None = None) -> HostInventory:
    """The appendix tables for one host; `raw` maps bundle member names to their text."""
    caps = caps or Caps.default()
    inv = HostInventory(name=host.name, anchor=f"host-{index}")
    ident = host.identity
    inv.identity = [
        ("hostname", ident.hostname),
        ("kernel", ident.kernel or ""),
        ("os", ident.os_release.get("PRETTY_NAME", "")),
        ("date", ident.date or ""),
        ("uptime", ident.uptime or ""),
        ("bundle", f"{host.bundle.path} ({host.bundle.kind})"),
        ("redactions", str(host.bundle.redactions)),
    ]
    inv.identity.extend(("bundle problem", p) for p in host.bundle.problems)
    for sid in sorted(host.sources):
        st = host.sources[sid]
        expected = "" if st.expected is None else str(st.expected)
        inv.sources.append(
            (sid, st.state.value, st.file or "", str(st.parsed), expected, str(len(st.unparsed)), "; ".join(st.notes))
        )
        inv.unparsed.extend((sid, st.file or "", str(u.line), u.text) for u in st.unparsed)
    if len(inv.unparsed) > caps.unparsed:
        inv.omitted.append(_more(len(inv.unparsed) - caps.unparsed, "unparsed lines"))
        inv.unparsed = inv.unparsed[: caps.unparsed]
    names = sorted(host.interfaces)
    if len(names) > caps.interfaces:
        inv.omitted.append(_more(len(names) - caps.interfaces, "interfaces"))
    for name in names[: caps.interfaces]:
        i = host.interfaces[name]
        addrs = " ".join(str(a.address) for a in i.addresses)
        vx = ""
        if i.vxlan is not None:
            vx = f"vni {i.vxlan.vni} local {i.vxlan.local} dev {i.vxlan.dev} dstport {i.vxlan.dstport}"
        inv.interfaces.append(
            (name, i.kind or "", i.state or "", "" if i.mtu is None else str(i.mtu), addrs, i.master or "", vx,
             str(i.src))
        )
    if len(host.routes) > caps.routes:
        inv.omitted.append(_more(len(host.routes) - caps.routes, "routes"))
    for r in host.routes[: caps.routes]:
        nh = " ".join(f"{n.gateway or ''} {n.dev or ''}".strip() for n in r.nexthops)
        inv.routes.append(
            (r.table, r.type, str(r.dst), str(r.gateway or nh), r.dev or "", str(r.metric), r.proto or "",
             r.scope or "", str(r.prefsrc or ""), str(r.src))
        )
    for p in host.policy_rules:
        inv.policy_rules.append((str(p.priority), p.raw or f"{p.action} {p.table or ''}", str(p.src)))
    budget = caps.rule_rows
    all_chains = [(variant, tname, cname) for variant in sorted(host.iptables)
                  for tname in sorted(host.iptables[variant].tables)
                  for cname in host.iptables[variant].tables[tname].chains]
    all_chains.sort(key=lambda k: (k[0], k[1], k[2] not in BUILTIN_CHAINS, k[2]))  # built-in chains first
    if len(all_chains) > caps.chains:
        inv.omitted.append(_more(len(all_chains) - caps.chains, "iptables chains"))
    for variant, tname, cname in all_chains[: caps.chains]:
        c = host.iptables[variant].tables[tname].chains[cname]
        shown = c.rules[: max(0, min(caps.rules_per_chain, budget))]
        budget -= len(shown)
        rules: list[Row] = [
            (str(r.position), "" if r.packets is None else str(r.packets), r.raw, str(r.src)) for r in shown
        ]
        counters = "" if c.packets is None else f"{c.packets} pkts / {c.bytes} bytes"
        inv.chains.append(
            ChainView(variant, tname, cname, c.policy or "-", counters, rules,
                      len(c.rules) - len(shown), str(c.src))
        )
    _flannel(host, inv)
    for key in sorted(host.sysctls):
        s = host.sysctls[key]
        inv.sysctls.append((key, s.value, str(s.src)))
    room = caps.raw_chars_per_host
    for name in sorted(raw or {}):
        text = (raw or {})[name]
        keep = text[: max(0, min(caps.raw_chars, room))]
        room -= len(keep)
        inv.raw_files.append(RawFile(name, len(text), keep, len(keep) < len(text)))
    return inv
