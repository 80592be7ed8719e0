"""NS304: the pod bridge (docker0/cni0) or flannel.1 address is outside this node's FLANNEL_SUBNET."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Interface

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence
from netsnap.model.evidence import Evidence

POD_BRIDGES = ("cni0", "docker0")


class FlannelSubnetMismatch(Rule):
    meta = RuleMeta(
        id="NS304",
        name="flannel-subnet-mismatch",
        title="The pod bridge address is outside this node's flannel subnet",
        cause="flannel-subnet-mismatch",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FLANNEL,
        requires=("addresses", "flannel_lease"),
        applies="overlay",
        what=(
            "Reads FLANNEL_SUBNET from `/run/flannel/subnet.env` and checks that a pod bridge (cni0 or docker0) "
            "holds an address in it, that no pod bridge holds an address of another node's lease inside "
            "FLANNEL_NETWORK (stale cni0), and that flannel.1's address is this lease's network address."
        ),
        why=(
            "When Docker starts before flanneld (or ignores `--bip`), containers get 172.17.x addresses that no other "
            "node routes; when the lease changed, cni0 keeps the old subnet and new pods fail to start or are "
            "unreachable."
        ),
        example="```\nFLANNEL_SUBNET=172.18.100.1/24\ndocker0: inet 172.17.0.1/16\n```",
        fix=(
            "Start Docker after flanneld with `EnvironmentFile=/run/flannel/docker` and `$DOCKER_NETWORK_OPTIONS` "
            "(`--bip=$FLANNEL_SUBNET`), or delete the stale bridge (`ip link delete cni0`) and let CNI recreate it."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/running.md#docker-integration",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#kubernetes-specific",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        se = host.flannel.subnet_env
        if se is None or se.subnet is None or f.lease is None:
            return
        lease = f.lease
        lease_ev = f.evidence.get("lease")
        bridges = [host.interfaces[n] for n in POD_BRIDGES if n in host.interfaces]
        holders = [b for b in bridges if any(isinstance(a.address, IPv4Interface) and a.address.ip in lease
                                             for a in b.addresses)]
        for b in bridges:
            for a in b.addresses:
                if not isinstance(a.address, IPv4Interface):
                    continue
                stale = f.network is not None and a.address.ip in f.network and a.address.ip not in lease
                if stale or (not holders and b.name == bridges[0].name):
                    ev: list[Evidence] = [evidence(host, a)]
                    if lease_ev:
                        ev.append(lease_ev)
                    why = ("holds another lease of the flannel network (stale after a lease change)" if stale
                           else "is outside FLANNEL_SUBNET and no pod bridge holds this node's lease")
                    yield self.finding(
                        hosts=[host.name],
                        key=f"{host.name}-{b.name}",
                        explanation=(
                            f"On {host.name}, {b.name} has {a.address} but FLANNEL_SUBNET is {se.subnet}: the bridge "
                            f"{why}, so pods get addresses other nodes do not route back."
                        ),
                        evidence=ev,
                        remediation=(
                            [f"ip link delete {b.name}   # CNI recreates it with {se.subnet}",
                             "systemctl restart kubelet"]
                            if b.name == "cni0"
                            else ["# docker must start after flanneld and use its subnet (--bip):",
                                  "mkdir -p /etc/systemd/system/docker.service.d",
                                  "printf '[Unit]\\nAfter=flanneld.service\\n[Service]\\n"
                                  "EnvironmentFile=/run/flannel/docker\\n' "
                                  "> /etc/systemd/system/docker.service.d/flannel.conf",
                                  f"# dockerd must get $DOCKER_NETWORK_OPTIONS, i.e. --bip={se.subnet} "
                                  f"--mtu={se.mtu or 1450}",
                                  "systemctl daemon-reload && systemctl restart docker"]
                        ),
                        path=ctx.cluster.path(host),
                        impact=50,
                    )
                    break
        dev = f.device
        if dev is not None and dev.vxlan is not None:
            for a in dev.addresses:
                if isinstance(a.address, IPv4Interface) and a.address.ip not in lease:
                    yield self.finding(
                        hosts=[host.name],
                        key=f"{host.name}-{dev.name}-address",
                        severity=Severity.WARNING,
                        title="flannel.1 carries an address outside this node's lease",
                        explanation=(
                            f"{dev.name} on {host.name} has {a.address}, outside the lease {lease}: a leftover of an "
                            f"earlier lease (flannel < 0.14 then refuses to start with 'incompatible addresses')."
                        ),
                        evidence=[evidence(host, a), *([lease_ev] if lease_ev else [])],
                        remediation=[f"ip addr del {a.address} dev {dev.name}",
                                     "# or: ip link delete " + dev.name + " && systemctl restart flanneld"],
                        path=ctx.cluster.path(host),
                        impact=45,
                    )


rule = FlannelSubnetMismatch()
