"""NS309: flannel is configured on the host but has written no subnet.env and created no device."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, evidence_at
from netsnap.model import SourceState
from netsnap.model.evidence import Evidence

CONFIG_SOURCES = ("flannel_unit", "flannel_env_default", "flannel_env_sysconfig", "net_conf", "flannel_cmdline")


class FlannelNotRunning(Rule):
    meta = RuleMeta(
        id="NS309",
        name="flannel-not-running",
        title="flannel is configured but not running (no subnet.env, no flannel device)",
        cause="flannel-error",
        severity=Severity.ERROR,
        confidence=Confidence.MEDIUM,
        category=Category.FLANNEL,
        requires=("link_details",),
        requires_any=(("flannel_config",),),
        applies="overlay",
        since="0.1.0",
        what=(
            "On a host whose bundle holds flannel configuration (unit, env file, net-conf.json or a command line), "
            "checks that `/run/flannel/subnet.env` exists and that a flannel device (flannel.N or flannel0) exists. "
            "Both missing means flanneld never got a lease; its last journal lines are quoted when collected."
        ),
        why=(
            "Without subnet.env the container runtime / CNI cannot configure pod networking on the node "
            "(`open /run/flannel/subnet.env: no such file or directory`), and without the device no overlay traffic "
            "reaches the node."
        ),
        example="```\nflannel/subnet.env: absent\nlinks/ip-d-link: no flannel.1\n```",
        fix=(
            "Find why flanneld does not start (`systemctl status flanneld`, `journalctl -u flanneld -n 50`): "
            "usually etcd unreachable or TLS (NS307), the network config missing under the etcd prefix (NS308), or "
            "a missing podCIDR in kube mode; fix that and restart flanneld."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#logging",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/running.md",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        st = host.sources.get("subnet_env")
        if (st is not None and st.usable) or f.device is not None:
            return
        ev: list[Evidence] = []
        for sid in CONFIG_SOURCES:
            prov = host.provenance(sid)
            if prov is not None and host.has(sid):
                ev.append(evidence_at(host, prov, f"flannel is configured here ({sid})"))
                break
        state = st.state.value if st else SourceState.NOT_COLLECTED.value
        ev.append(evidence_at(host, None, f"/run/flannel/subnet.env: {state}", "subnet_env"))
        link = host.provenance("ip_link")
        ev.append(evidence_at(host, link, "no flannel.N / flannel0 device in ip -d link"))
        ev.extend(evidence(host, e) for e in host.flannel.events[-3:])
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-not-running",
            explanation=(
                f"flannel is configured on {host.name} but there is no subnet.env ({state}) and no flannel device: "
                f"flanneld is not running or never obtained a lease, so pods on this node have no overlay network."
            ),
            evidence=ev,
            remediation=[
                "systemctl status flanneld",
                "journalctl -u flanneld -n 50 --no-pager",
                "# fix the cause it logs (etcd, TLS, network config, podCIDR), then: systemctl restart flanneld",
            ],
            path=ctx.cluster.path(host),
            impact=85,
        )


rule = FlannelNotRunning()
