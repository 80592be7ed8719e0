"""NS307: flanneld errors in the journal, summarised by kind with counts, first and last time."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence
from netsnap.model import FlannelEvent
from netsnap.model.evidence import Evidence

KINDS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("tls", re.compile(r"x509|tls:|certificate", re.I), "check --etcd-cafile/--etcd-certfile/--etcd-keyfile and SANs"),
    ("etcd-unreachable", re.compile(r"etcd cluster is unavailable|connection refused|context deadline|dial tcp", re.I),
     "check --etcd-endpoints and that etcd is reachable from this node"),
    ("config-missing", re.compile(r"Key not found|config not found|network config", re.I),
     "write the network config under the prefix flanneld uses (--etcd-prefix), with the etcd API its version speaks"),
    ("incompatible-addresses", re.compile(r"incompatible addresses", re.I),
     "ip link delete flannel.1 && systemctl restart flanneld"),
    ("no-valid-interface", re.compile(r"valid interface|interface to use|determine interface|default route", re.I),
     "pin --iface=<NIC> (or --iface-can-reach=<peer IP>)"),
    ("lease", re.compile(r"lease|pod cidr|PodCIDR|out of subnets|registering network", re.I),
     "check the node's podCIDR / the etcd leases (kubectl get node -o jsonpath='{.spec.podCIDR}')"),
    ("br-netfilter", re.compile(r"br_netfilter|bridge-nf-call", re.I), "modprobe br_netfilter"),
    ("peer-programming", re.compile(r"vxlanRoute|adding route|AddFDB|AddARP", re.I), "systemctl restart flanneld"),
)
_NOISE = re.compile(r"\d+\.\d+\.\d+\.\d+(/\d+)?|0x[0-9a-f]+|\b\d+\b|[0-9a-f]{2}(:[0-9a-f]{2}){5}", re.I)
_RECOVERY = ("lease", "subnet-file", "backend")
_RECOVERY_TEXT = re.compile(
    r"Wrote subnet file|Running backend|lease acquired|Found lease|bootstrap done|flannel is ready"
    r"|Found network config",
    re.I,
)


@dataclass
class Group:
    kind: str
    hint: str
    events: list[FlannelEvent] = field(default_factory=list)


def classify(message: str) -> tuple[str, str]:
    for kind, pattern, hint in KINDS:
        if pattern.search(message):
            return kind, hint
    return "other", "read the full journal: journalctl -u flanneld"


class FlannelError(Rule):
    meta = RuleMeta(
        id="NS307",
        name="flannel-error",
        title="flanneld logged errors",
        cause="flannel-error",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FLANNEL,
        requires_any=(("flannel_log",),),
        applies="overlay",
        what=(
            "Collects flanneld's error and fatal lines from the journal (or kube-flannel pod logs) and summarises "
            "them by kind — lease, etcd unreachable, TLS, network config missing, incompatible addresses, no valid "
            "interface, br_netfilter, peer programming — with counts and the first and last time. Errors that "
            "stopped before flannel went on to acquire a lease and run are reported as a note."
        ),
        why=(
            "flanneld retries many failures forever, so the node looks 'up' while it never gets a lease or never "
            "programs its peers: no subnet.env, no routes, no pod networking."
        ),
        example=(
            "```\nE0909 10:01:02.000000    1829 main.go:382] Couldn't fetch network config: client: etcd cluster is "
            "unavailable or misconfigured (x 240, 10:01:02 → 10:05:02)\n```"
        ),
        fix="Follow the hint of each kind; the last line of each group is the current state.",
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#log-messages",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#permissions",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        events = host.flannel.events
        groups: dict[tuple[str, str], Group] = {}
        last_error_idx = -1
        for idx, ev in enumerate(events):
            if ev.level not in ("E", "F") and ev.kind != "error":
                continue
            kind, hint = classify(ev.message)
            pattern = _NOISE.sub("#", ev.message)[:160]
            groups.setdefault((kind, pattern), Group(kind, hint)).events.append(ev)
            last_error_idx = idx
        if not groups:
            return
        recovered = any(
            e.level in ("I", "?") and (e.kind in _RECOVERY or _RECOVERY_TEXT.search(e.message))
            for e in events[last_error_idx + 1:]
        )
        by_kind: dict[str, list[Group]] = {}
        for g in groups.values():
            by_kind.setdefault(g.kind, []).append(g)
        for kind, gs in by_kind.items():
            total = sum(len(g.events) for g in gs)
            all_ev = [e for g in gs for e in g.events]
            # journal lines carry a zone, bare klog lines may not: compare on wall-clock time
            stamps = sorted((e.timestamp for e in all_ev if e.timestamp is not None),
                            key=lambda t: t.replace(tzinfo=None))
            first = stamps[0].isoformat() if stamps else "?"
            last = stamps[-1].isoformat() if stamps else "?"
            ev_lines: list[Evidence] = []
            for g in gs[:5]:
                ev_lines.append(evidence(host, g.events[0]))
                if len(g.events) > 1:
                    ev_lines.append(evidence(host, g.events[-1], f"{g.events[-1].raw}   (x{len(g.events)})"))
            samples = "; ".join(f"“{g.events[-1].message[:140]}” x{len(g.events)}" for g in gs[:2])
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{kind}",
                severity=Severity.INFO if recovered else Severity.ERROR,
                confidence=Confidence.HIGH,
                title=f"flanneld logged {kind} errors" + (" (recovered)" if recovered else ""),
                explanation=(
                    f"flanneld on {host.name} logged {total} {kind} error line{'s' if total != 1 else ''} between "
                    f"{first} and {last}: {samples}."
                    + (" flannel went on to run normally afterwards." if recovered else
                       " Nothing after them shows flannel recovering.")
                ),
                evidence=ev_lines,
                remediation=[f"# {gs[0].hint}", "journalctl -u flanneld -o short-iso | grep -E ' [EF][0-9]{4} '"],
                path=ctx.cluster.path(host),
                impact=5 if recovered else 60,
            )


rule = FlannelError()
