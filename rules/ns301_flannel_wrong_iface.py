"""NS301: flannel's external interface/address is one its peers cannot reach."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Interface

from netsnap.combine.overlay import Peer, connected_networks, owner_of
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, evidence_at
from netsnap.model import Host, Interface
from netsnap.model.evidence import Evidence
from netsnap.sources import host_path

_OPT_VARS = ("FLANNEL_OPTS", "FLANNEL_OPTIONS")
_STRIP = re.compile(r"\s*--?(iface|public-ip)(=\S+|\s+\S+)")


def recompute(host: Host) -> tuple[IPv4Address | None, str | None, list[str]]:
    """What flanneld would choose now (netsnap.flannel.iface_select), as (external address, iface, reasoning)."""
    try:
        mod = importlib.import_module("netsnap.flannel.iface_select")
        config = host.flannel.process_config or host.flannel.files_config
        sel = mod.choose_external(host, config)
    except Exception:  # the emulation is optional here: the journal and the device remain the evidence
        return None, None, []
    ext = sel.external_address or sel.address
    return ext, sel.iface, list(sel.reasoning)


_EXPLICIT_FLAGS = ("iface", "iface-regex", "iface-can-reach", "public-ip")
_EXPLICIT_LOG = re.compile(
    r"Searching for interface using|based on given ifcanreach|as external address|iface:\[[^\]]+\]"
)


def pinned(host: Host) -> bool:
    """True when flanneld's interface was chosen on purpose (--iface, --iface-regex, --iface-can-reach,
    --public-ip in the running or configured flags, or the journal says so), False for auto-detection."""
    config = host.flannel.process_config or host.flannel.files_config
    if config is not None and any(config.get(flag) for flag in _EXPLICIT_FLAGS):
        return True
    if config is not None and config.argv:
        return False
    return any(_EXPLICIT_LOG.search(e.message) for e in host.flannel.events)


def _on_host(host: Host, member: str) -> str:
    """The path on the host of a bundle file (`flannel/etc-default-flanneld` -> /etc/default/flanneld), through
    its source id for loose files; the bundle path when it names no host file."""
    sid = next((sid for sid, st in host.sources.items() if st.file == member), None)
    return host_path(member) or (host_path(sid) if sid else None) or member


def fix_lines(host: Host, iface: str, address: IPv4Interface | None) -> list[str]:
    flags = f"-iface={iface}" + (f" -public-ip={address.ip}" if address else "")
    for path, values in sorted(host.flannel.env_files.items()):
        for var in _OPT_VARS:
            fv = values.get(var)
            if fv is not None:
                rest = " ".join(_STRIP.sub("", fv.value).split())
                return [
                    f"# in {_on_host(host, path)}" + (f" (line {fv.src.line}):" if fv.src.line else ":"),
                    f'{var}="{rest} {flags}"'.replace('" ', '"').replace('  ', ' '),
                    "systemctl restart flanneld",
                ]
    return [f"# add to flanneld's arguments (unit, env file or DaemonSet args): --iface={iface}"
            + (f" --public-ip={address.ip}" if address else ""), "systemctl restart flanneld"]


class FlannelWrongIface(Rule):
    meta = RuleMeta(
        id="NS301",
        name="flannel-wrong-iface",
        title="flannel's external interface is one its peers cannot reach",
        cause="flannel-wrong-iface",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FLANNEL,
        main=True,
        requires=("addresses", "routes"),
        applies="overlay",
        what=(
            "Takes the address flannel uses as its VTEP (the VXLAN device's `local`, or the journal's `Using … as "
            "external interface/endpoint` / `Using interface with name … and address …`), recomputes what flanneld "
            "would choose from routes, addresses and its effective flags, and checks it against the peers (other "
            "bundles, fdb entries, journal peer events): it fires when the peers live on a network this host reaches "
            "through another NIC, when several nodes report the same address (Vagrant's 10.0.2.15), or when a "
            "`--public-ip` lies outside every peer's networks."
        ),
        why=(
            "Without `--iface`, flannel takes the interface of the default route. On a multi-homed host whose "
            "default route leaves through a management or NAT network, peers send VXLAN packets to an address they "
            "cannot reach (or that is blocked), so all cross-node pod traffic to this node fails."
        ),
        example=(
            "```\nflannel/journal: Using 172.16.0.4 as external interface\n"
            "routes/route-n: 0.0.0.0  172.16.0.1  0.0.0.0  UG 100 0 0 eth0\n"
            "peer node1 VTEP 192.168.0.16 is on eth1 (192.168.0.0/24)\n```"
        ),
        fix=(
            "Pin the interface: add `-iface=eth1 -public-ip=192.168.0.15` to `FLANNEL_OPTS` in "
            "`/etc/default/flanneld` (or `FLANNEL_OPTIONS` in `/etc/sysconfig/flanneld`, `--iface` in the "
            "kube-flannel DaemonSet args, `--iface-can-reach=<peer>`), then `systemctl restart flanneld`. Do not move "
            "the default route: management access may depend on it."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md#key-command-line-options",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#vagrant",
            "https://github.com/flannel-io/flannel/issues/1042",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        """One diagnosis per method: every node on one address, a secondary address or VIP, the wrong NIC, a
        --public-ip the peers cannot reach."""
        host = ctx.the_host
        f = ctx.cluster.of(host)
        configured = host.flannel.files_config is not None or host.flannel.process_config is not None
        if not (f.has_flannel or configured):
            return
        ev: list[Evidence] = []
        uses = "uses"
        if f.vtep is not None:
            chosen = f.vtep
        else:
            # not running yet (no device, no journal): predict the next start from the configuration
            predicted, _, reasoning = recompute(host)
            if predicted is None:
                return
            chosen, uses = predicted, "would use (recomputed from its configuration; it is not running)"
            ev.extend(evidence_at(host, None, step, "ip_addr") for step in reasoning[:3])
        if "vtep" in f.evidence:
            ev.append(f.evidence["vtep"])
        ev.extend(e for e in f.journal.evidence if e not in ev)
        peers = [p for p in ctx.cluster.peers(host) if p.vtep is not None]
        checks = _blocked_at(ctx, chosen)
        same = [p for p in peers if p.vtep == chosen and p.host is not None]
        if same:
            yield self._same_vtep(ctx, host, chosen, same, ev, checks)
            return
        owner = owner_of(host, chosen)
        if owner is not None:
            yield from self._secondary(ctx, host, owner, chosen, ev)
            yield from self._wrong_iface(ctx, host, owner, chosen, peers, ev, uses, checks)
            return
        yield from self._public_ip(ctx, host, chosen, peers, ev, checks)

    def _same_vtep(self, ctx: RuleContext, host: Host, chosen: IPv4Address, same: list[Peer], ev: list[Evidence],
                   checks: list[str]) -> Finding:
        """C-1: every node advertises the same address (a Vagrant/VirtualBox NAT NIC)."""
        return self.finding(
            hosts=[host.name, *[p.name for p in same]],
            key=f"{host.name}-same-vtep-{chosen}",
            explanation=(
                f"{host.name} and {', '.join(p.name for p in same)} all use {chosen} as their flannel address; "
                f"peers cannot tell them apart (typically a Vagrant/VirtualBox NAT NIC), so traffic meant for one "
                f"node goes to another or nowhere."
            ),
            evidence=ev + [e for p in same for e in p.evidence[:1]],
            remediation=fix_lines(host, "<the NIC the nodes share, e.g. eth1>", None),
            path=ctx.cluster.path(host, same),
            impact=90,
            checks=checks,
        )

    def _wrong_iface(self, ctx: RuleContext, host: Host, owner: Interface, chosen: IPv4Address, peers: list[Peer],
                     ev: list[Evidence], uses: str, checks: list[str]) -> Iterable[Finding]:
        """C-2/C-3: flannel took the default-route NIC while the peers are on another network."""
        nets = connected_networks(host)
        unreachable: list[tuple[Peer, str, IPv4Interface]] = []
        for p in peers:
            assert p.vtep is not None
            on_chosen = any(p.vtep in a.network for i, a in nets if i.name == owner.name)
            if on_chosen:
                continue
            other = next(((i.name, a) for i, a in nets if p.vtep in a.network and i.name != owner.name), None)
            if other is not None:
                unreachable.append((p, other[0], other[1]))
        if not unreachable or pinned(host):
            return  # a deliberately pinned interface is not second-guessed: the odd peer gets the finding
        _, want_iface, want_addr = unreachable[0]
        recomputed, re_iface, reasoning = recompute(host)
        ev = list(ev)
        default = next((r for r in host.routes_in("main") if r.is_default), None)
        if default is not None:
            text = default.raw or f"default via {default.gateway} dev {default.dev}"
            ev.append(evidence_at(host, default.src, text))
        for p, _, _ in unreachable[:3]:
            ev.extend(p.evidence[:1])
        note = ""
        if recomputed is not None:
            note = (
                f" Recomputed from the current configuration, flanneld would choose {recomputed}"
                f" ({re_iface})"
                + ("; the running daemon has not picked it up yet." if recomputed != chosen else ".")
            )
        # do the peers at least have a network of their own that holds the chosen address?
        reached = all(
            p.host is not None and any(chosen in a.network for _, a in connected_networks(p.host))
            for p, _, _ in unreachable
        )
        consequence = (
            f"they send VXLAN packets to an address on a network they do not share, so cross-node pod traffic "
            f"to and from {host.name} fails."
            if not reached
            else f"the peers reach {chosen} only over {owner.name}'s network, so overlay traffic is asymmetric "
            f"and breaks as soon as that network filters UDP {ctx.cluster.of(host).port or 8472} (security "
            f"group, firewall) or is not routed between all nodes."
        )
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-iface-{owner.name}",
            severity=Severity.WARNING if reached else Severity.ERROR,
            confidence=Confidence.MEDIUM if reached else Confidence.HIGH,
            explanation=(
                f"flannel on {host.name} {uses} {chosen} on {owner.name}, but its peers "
                f"({', '.join(f'{p.name} {p.vtep}' for p, _, _ in unreachable[:3])}) are on {want_addr.network}, "
                f"which this host reaches through {want_iface}; " + consequence + note
            ),
            evidence=ev,
            remediation=fix_lines(host, want_iface, want_addr),
            path=ctx.cluster.path(host, [p for p, _, _ in unreachable]),
            impact=70 if reached else 90,
            checks=checks,
        )
        if reasoning:
            ctx.notes.extend(reasoning)

    def _public_ip(self, ctx: RuleContext, host: Host, chosen: IPv4Address, peers: list[Peer], ev: list[Evidence],
                   checks: list[str]) -> Iterable[Finding]:
        """C-34: a --public-ip (or annotation) on no local interface and on none of the peers' networks."""
        peer_hosts = [p.host for p in peers if p.host is not None]
        if not peer_hosts:
            return
        reachable = any(
            chosen in a.network for ph in peer_hosts for _, a in connected_networks(ph)
        ) or any(any(r.is_default for r in ph.routes_in("main")) for ph in peer_hosts)
        if reachable:
            return
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-public-ip-{chosen}",
            severity=Severity.WARNING,
            confidence=Confidence.MEDIUM,
            explanation=(
                f"flannel on {host.name} advertises {chosen}, an address on none of its interfaces (a --public-ip) "
                f"and on none of its peers' networks, with no route there on the peers: they cannot reach it."
            ),
            evidence=ev,
            remediation=fix_lines(host, "<the NIC the nodes share>", None),
            path=ctx.cluster.path(host, peers),
            impact=85,
            checks=checks,
        )

    def _secondary(
        self, ctx: RuleContext, host: Host, owner: Interface, chosen: IPv4Address, ev: list[Evidence]
    ) -> Iterable[Finding]:
        """C-4: the VTEP is a secondary address or a VIP (keepalived) of an interface with a primary address."""
        v4 = [a for a in owner.addresses if isinstance(a.address, IPv4Interface)]
        mine = next((a for a in v4 if a.address.ip == chosen), None)
        if mine is None or len(v4) < 2 or not (mine.secondary or mine.address.network.prefixlen == 32):
            return
        primary = next((a for a in v4 if a is not mine and not a.secondary), None)
        if primary is None:
            return
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-secondary-{chosen}",
            severity=Severity.WARNING,
            confidence=Confidence.MEDIUM,
            title="flannel uses a secondary address or VIP as its VTEP",
            explanation=(
                f"flannel on {host.name} uses {chosen}, a {'secondary' if mine.secondary else '/32 (VIP)'} address of "
                f"{owner.name} whose primary address is {primary.address.ip}; when the address moves (keepalived "
                f"failover) or is removed, peers keep sending VXLAN packets to it and this node's pods become "
                f"unreachable."
            ),
            evidence=[*ev[:2], evidence(host, mine), evidence(host, primary)],
            remediation=fix_lines(host, owner.name, IPv4Interface(primary.address)),
            path=ctx.cluster.path(host),
            impact=50,
        )


def _blocked_at(ctx: RuleContext, vtep: IPv4Address) -> list[str]:
    """The graph's blockers of overlay packets sent from or to this VTEP address (what the wrong choice does to
    the required flows: no route to it, no ARP answer on the wrong NIC, ...)."""
    addr = str(vtep)
    return list(dict.fromkeys(s.check for _, s in ctx.graph.blocked()
                              if s.packet is not None and addr in (s.packet.src, s.packet.dst)))


rule = FlannelWrongIface()
