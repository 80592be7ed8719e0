"""NS101: more than one default route in the main table."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence
from netsnap.model import Route


def _exit(r: Route) -> tuple[str | None, str | None]:
    return (r.dev, str(r.gateway) if r.gateway else None)


def _del_cmd(r: Route) -> str:
    via = f" via {r.gateway}" if r.gateway else ""
    dev = f" dev {r.dev}" if r.dev else ""
    return f"ip route del default{via}{dev} metric {r.metric}"


class DuplicateDefaultRoute(Rule):
    meta = RuleMeta(
        id="NS101",
        name="duplicate-default-route",
        title="More than one default route in the main table",
        cause="duplicate-default-route",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.ROUTING,
        main=True,
        requires=("routes",),
        what=(
            "Lists the IPv4 default routes (`0.0.0.0/0`) of the main routing table. Two or more with the **same "
            "metric** through different interfaces or gateways are an error; defaults with different metrics are "
            "reported as a note (the lowest metric wins, the others are standby)."
        ),
        why=(
            "With two equal defaults the kernel uses one of them for everything, and which one changes with the "
            "order routes were added (reboots, DHCP renewals). Traffic to networks that are only reachable through "
            "the other exit is lost, and replies may leave by a different NIC than requests arrived on (rp_filter, "
            "stateful firewalls). flannel also picks its external interface from the first default route."
        ),
        example=(
            "```\n# route -n\n0.0.0.0   10.175.100.1  0.0.0.0  UG  0  0  0 eth2\n"
            "0.0.0.0   9.91.17.59    0.0.0.0  UG  0  0  0 eth0\n```"
        ),
        fix=(
            "Keep one default route and delete the other (`ip route del default via 9.91.17.59 dev eth0`), then "
            "fix its origin (a second `GATEWAY=` in ifcfg files, DHCP on a second NIC: `DEFROUTE=no` / "
            "`PEERDNS=no`, or netplan `use-routes: false`). Use specific routes for networks behind the other "
            "gateway."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#interface-selection-and-the-public-ip",
            "https://man7.org/linux/man-pages/man8/ip-route.8.html",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        defaults = [
            r for r in host.routes_in("main")
            if r.is_default and isinstance(r.dst, IPv4Network) and r.type == "unicast" and not r.nexthops
        ]
        exits = {_exit(r) for r in defaults}
        if len(defaults) < 2 or len(exits) < 2:
            return
        by_metric: dict[int, list[Route]] = {}
        for r in defaults:
            by_metric.setdefault(r.metric, []).append(r)
        ev = [evidence(host, r) for r in defaults]
        clash = [rs for rs in by_metric.values() if len({_exit(r) for r in rs}) > 1]
        if clash:
            rs = clash[0]
            exits_txt = " and ".join(f"{r.dev or '?'} via {r.gateway or 'on-link'}" for r in rs)
            keep = rs[0]
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-metric-{rs[0].metric}",
                checks=ctx.graph.blocked_toward(host.name),  # what left by a default route and went nowhere
                explanation=(
                    f"{host.name} has {len(rs)} default routes with the same metric {rs[0].metric} ({exits_txt}); "
                    f"the kernel sends all unmatched traffic through one of them, so networks behind the other exit "
                    f"become unreachable or asymmetric."
                ),
                evidence=ev,
                remediation=[
                    f"# keep the default via {keep.gateway} dev {keep.dev}; delete the others:",
                    *[_del_cmd(r) for r in rs[1:]],
                    "# then remove the second gateway from the interface configuration so it does not return",
                ],
                path=f"{host.name} → everything behind the default route",
                impact=60,
            )
            return
        ordered = sorted(defaults, key=lambda r: r.metric)
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-metrics",
            severity=Severity.INFO,
            title="Several default routes with different metrics",
            explanation=(
                f"{host.name} has {len(defaults)} default routes with different metrics; the one via "
                f"{ordered[0].gateway} dev {ordered[0].dev} (metric {ordered[0].metric}) is used and the others are "
                f"standby. This is fine when intended, but flannel's auto-detection follows the winning route."
            ),
            evidence=ev,
            remediation=["# nothing to do if the standby route is intended; otherwise:", _del_cmd(ordered[-1])],
            impact=5,
        )


rule = DuplicateDefaultRoute()
