"""NS307: flanneld errors in the journal, summarised by kind with counts, first and last time."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence
from netsnap.flannel import log_catalog, log_messages
from netsnap.model import FlannelEvent, Host
from netsnap.model.evidence import Evidence

# error class (netsnap.flannel.log_catalog.diagnose) -> (the kind this rule reports, what to do)
KINDS: dict[str, tuple[str, str]] = {
    "etcd-unavailable": ("etcd-unreachable", "check --etcd-endpoints and that etcd is reachable from this node"),
    "kube-api-unavailable": (
        "kube-api-unreachable",
        "the kube subnet manager cannot reach the Kubernetes API server (not etcd): check this node's path to the "
        "API service IP (kube-proxy rules, routes, the API server itself)"),
    "unreachable": ("unreachable", "check that this node reaches its subnet manager (etcd or the API server)"),
    "tls": ("tls", "check the CA and client certificates flanneld uses (--etcd-cafile/--etcd-certfile/--etcd-keyfile, "
                   "or the service account's CA) and the server's SANs"),
    "rbac": ("kube-rbac", "grant flannel's service account its ClusterRole (nodes get/list/watch/patch, pods get)"),
    "net-config": ("config-missing", "write the network config under the prefix flanneld uses (--etcd-prefix), "
                                     "with the etcd API its version speaks, or fix net-conf.json"),
    "pod-cidr": ("pod-cidr", "give the node a podCIDR inside the flannel Network "
                             "(kubectl get node -o jsonpath='{.spec.podCIDR}'; --allocate-node-cidrs --cluster-cidr)"),
    "lease": ("lease", "check the etcd leases (subnet space exhausted, leases revoked)"),
    "incompatible-addresses": ("incompatible-addresses", "ip link delete flannel.1 && systemctl restart flanneld"),
    "mac-changed": ("mac-changed", "stop the agent that changes flannel.1's MAC (systemd-networkd "
                                   "MACAddressPolicy=none for flannel*), then restart flanneld"),
    "no-interface": ("no-valid-interface", "pin --iface=<NIC> (or --iface-can-reach=<peer IP>)"),
    "device": ("device", "flanneld could not create or find its VXLAN device: check `ip -d link show flannel.1`, "
                         "the vxlan kernel module (lsmod | grep vxlan) and any agent deleting the device"),
    "br-netfilter": ("br-netfilter", "modprobe br_netfilter and set net.bridge.bridge-nf-call-iptables=1"),
    "iptables": ("iptables", "check the iptables backend (legacy vs nf_tables) and that iptables runs in flanneld's "
                             "environment"),
    "permission": ("permission", "run flanneld as root / a privileged container (NET_ADMIN)"),
    "route": ("peer-programming", "remove the conflicting route, then systemctl restart flanneld"),
    "unit": ("unit-failed", "the unit failed or was killed: the cause is in flanneld's own lines just before"),
    "other": ("other", "read flanneld's full log around these lines"),
}
_NOISE = re.compile(r"\d+\.\d+\.\d+\.\d+(/\d+)?|0x[0-9a-f]+|\b\d+\b|[0-9a-f]{2}(:[0-9a-f]{2}){5}", re.I)


@dataclass
class Group:
    kind: str
    hint: str
    events: list[FlannelEvent] = field(default_factory=list)


def error_class(ev: FlannelEvent) -> str | None:
    """The error class of a failure event (flanneld's error lines, systemd's unit failures), else None."""
    cls = ev.fields.get("error_class")
    if cls:
        return cls
    if ev.level in ("E", "F") or ev.kind == "error":
        return log_catalog.diagnose(ev.message, ev.message_id)
    return None


def classify(ev: FlannelEvent) -> tuple[str, str]:
    """(reported kind, hint) of a failure event."""
    return KINDS.get(error_class(ev) or "other", KINDS["other"])


def _log_command(host: Host, events: list[FlannelEvent]) -> str:
    """How to read the lines again: the pod's logs for kube-flannel pod logs, the journal otherwise."""
    pods = host.sources.get("flannel_pod_logs")
    if pods is not None and pods.file and any(e.src.file == pods.file for e in events):
        return ("kubectl -n kube-flannel logs -l app=flannel -c kube-flannel --prefix --tail=500   "
                "# namespace kube-system for manifests before v0.20")
    if any(e.identifier in ("k3s", "k3s-agent", "k3s-server", "rke2-agent", "rke2-server") for e in events):
        unit = next(e.identifier for e in events if e.identifier and e.identifier.startswith(("k3s", "rke2")))
        return f"journalctl -u {unit} -o short-iso | grep -i flannel"
    return "journalctl -u flanneld -o short-iso | grep -E ' [EF][0-9]{4} |systemd'"


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
            "Collects flanneld's error and fatal lines, and systemd's failures of its unit, from the journal (or "
            "kube-flannel pod logs) and summarises them by the cause the message names — etcd or the Kubernetes "
            "API unreachable, TLS, RBAC, network config missing, pod CIDR, lease, incompatible addresses, no valid "
            "interface, VXLAN device, br_netfilter, iptables, peer programming, unit failed — with counts and the "
            "first and last time. A kind whose last failure is followed by a line that shows flannel up (a lease, "
            "the subnet file, the backend running) is reported as recovered."
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
        last_of_kind: dict[str, int] = {}
        for idx, ev in enumerate(events):
            if error_class(ev) is None:
                continue
            kind, hint = classify(ev)
            pattern = _NOISE.sub("#", ev.message)[:160]
            groups.setdefault((kind, pattern), Group(kind, hint)).events.append(ev)
            last_of_kind[kind] = idx
        if not groups:
            return
        # over only when a message that means "flannel is up" follows the kind's last failure (a retry loop
        # that logs `Found lease ..., reusing` between its failures is not over)
        up = [i for i, e in enumerate(events) if e.message_id in log_messages.SUCCESS]
        by_kind: dict[str, list[Group]] = {}
        for g in groups.values():
            by_kind.setdefault(g.kind, []).append(g)
        for kind, gs in by_kind.items():
            recovered = any(i > last_of_kind[kind] for i in up)
            total = sum(len(g.events) for g in gs)
            all_ev = [e for g in gs for e in g.events]
            # journal lines carry a zone, bare klog lines may not: compare on wall-clock time
            stamps = sorted((e.timestamp for e in all_ev if e.timestamp is not None),
                            key=lambda t: t.replace(tzinfo=None))
            span = _span(stamps, all_ev)
            ev_lines: list[Evidence] = []
            for g in gs[:5]:
                ev_lines.append(evidence(host, g.events[0]))
                if len(g.events) > 1:
                    ev_lines.append(evidence(host, g.events[-1], f"{g.events[-1].raw}   (x{len(g.events)})"))
            samples = "; ".join(f"“{g.events[-1].message[:140]}” x{len(g.events)}" for g in gs[:2])
            meanings = list(dict.fromkeys(
                e.meaning for g in gs if (e := log_catalog.entry(g.events[-1].message_id)) is not None))
            meaning = f" ({'; '.join(meanings[:2])})" if meanings else ""
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{kind}",
                severity=Severity.INFO if recovered else Severity.ERROR,
                confidence=Confidence.HIGH,
                title=f"flanneld logged {kind} errors" + (" (recovered)" if recovered else ""),
                explanation=(
                    f"flanneld on {host.name} logged {total} {kind} error line{'s' if total != 1 else ''}{span}: "
                    f"{samples}{meaning}."
                    + (" A later line shows flannel up (lease, subnet file or backend running)." if recovered else
                       " Nothing after the last of them shows flannel up: it is still failing.")
                ),
                evidence=ev_lines,
                remediation=[f"# {gs[0].hint}", _log_command(host, all_ev)],
                path=ctx.cluster.path(host),
                impact=5 if recovered else 60,
            )


rule = FlannelError()


def _span(stamps: list[datetime], events: list[FlannelEvent]) -> str:
    """` between FIRST and LAST`: full timestamps when the lines have them, else the time text as logged
    (syslog and dmesg-style lines carry no year), else nothing."""
    if stamps:
        first, last = stamps[0].isoformat(), stamps[-1].isoformat()
    else:
        logged = [e.fields["time"] for e in events if e.fields.get("time")]
        if not logged:
            return ""
        first, last = logged[0], logged[-1]
        return f" at {first} (as logged, no year)" if first == last else \
            f" between {first} and {last} (as logged, no year)"
    return f" at {first}" if first == last else f" between {first} and {last}"
