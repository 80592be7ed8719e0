"""Hand-made incident A (master + node1) as model objects and an AnalysisResult, for renderer tests.

Kept independent of the parsers and rules so renderer tests fail only for renderer reasons. The
`hostile` variant plants script, attribute-breaking and javascript: payloads in every text field.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from netsnap.engine.findings import (
    AnalysisResult,
    Confidence,
    Finding,
    HostSummary,
    NotEvaluated,
    RuleRun,
    Severity,
)
from netsnap.model import (
    BundleInfo,
    Chain,
    FlagValue,
    FlannelConfig,
    FlannelState,
    Host,
    Identity,
    IfAddress,
    Interface,
    IptRule,
    Provenance,
    Route,
    Ruleset,
    Snapshot,
    SourceState,
    SourceStatus,
    SubnetEnv,
    Sysctl,
    Table,
    Target,
    UnparsedLine,
    VxlanInfo,
)
from netsnap.model.evidence import Evidence
from netsnap.trace.result import Step, TraceResult

SCRIPT = "<script>document.title='PWNED';document.body.setAttribute('data-pwned','1')</script>"
ATTR = '"><img src=x onerror="document.title=\'PWNED\'">'
JSURL = "javascript:document.title='PWNED'"


def P(file: str, line: int = 0) -> Provenance:
    return Provenance(file=file, line=line)


def _iface(name: str, addr: str | None, file_line: int, *, kind: str | None = None, vxlan: VxlanInfo | None = None,
           mtu: int = 1500) -> Interface:
    addrs = [IfAddress(address=IPv4Interface(addr), src=P("links/ip-d-address", file_line + 2),
                       raw=f"    inet {addr} scope global {name}")] if addr else []
    return Interface(name=name, index=file_line, kind=kind, flags=["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
                     state="UP", mtu=mtu, addresses=addrs, vxlan=vxlan, src=P("links/ip-d-address", file_line),
                     raw=f"{file_line}: {name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {mtu}")


def _route(dst: str, dev: str, line: int, gw: str | None = None, metric: int = 0) -> Route:
    return Route(origin="route-n", dst=IPv4Network(dst), gateway=IPv4Address(gw) if gw else None, dev=dev,
                 metric=metric, src=P("routes/route-n", line), raw=f"{dst} {gw or '0.0.0.0'} {dev}")


def _ruleset(reject_comment: str = "") -> Ruleset:
    f = "firewall/iptables-save"
    comment = f' -m comment --comment "{reject_comment}"' if reject_comment else ""
    inp = Chain(name="INPUT", policy="ACCEPT", packets=0, bytes=0, src=P(f, 3), rules=[
        IptRule(table="filter", chain="INPUT", position=1, target=Target(name="ACCEPT"), src=P(f, 6),
                raw="-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT", packets=1200, bytes=90000),
        IptRule(table="filter", chain="INPUT", position=2, target=Target(name="REJECT"), src=P(f, 7),
                raw=f"-A INPUT{comment} -j REJECT --reject-with icmp-host-prohibited", packets=37, bytes=2960),
    ])
    fwd = Chain(name="FORWARD", policy="ACCEPT", packets=0, bytes=0, src=P(f, 4), rules=[
        IptRule(table="filter", chain="FORWARD", position=1, target=Target(name="REJECT"), src=P(f, 8),
                raw="-A FORWARD -j REJECT --reject-with icmp-host-prohibited", packets=12, bytes=1008),
    ])
    out = Chain(name="OUTPUT", policy="ACCEPT", src=P(f, 5))
    table = Table(name="filter", chains={"INPUT": inp, "FORWARD": fwd, "OUTPUT": out}, src=P(f, 2))
    return Ruleset(variant="iptables", backend="legacy", tables={"filter": table}, file=f)


def _sources(unparsed: list[UnparsedLine]) -> dict[str, SourceStatus]:
    return {
        "ip_addr": SourceStatus(source="ip_addr", state=SourceState.OK, file="links/ip-d-address", parsed=5),
        "route_n": SourceStatus(source="route_n", state=SourceState.OK, file="routes/route-n", parsed=6),
        "iptables_save": SourceStatus(source="iptables_save", state=SourceState.OK, file="firewall/iptables-save",
                                      parsed=3, expected=3),
        "flannel_journal": SourceStatus(source="flannel_journal", state=SourceState.OK, file="flannel/journal",
                                        parsed=2, unparsed=unparsed),
        "ethtool": SourceStatus(source="ethtool", state=SourceState.COMMAND_MISSING, command="ethtool -k flannel.1"),
    }


def master(name: str = "master", payload: str = "") -> Host:
    vx = VxlanInfo(vni=1, local=IPv4Address("172.16.0.4"), dev="eth0", dstport=8472, src=P("links/ip-d-link", 9))
    ifaces = {
        "eth0": _iface("eth0", "172.16.0.4/24", 2),
        "eth1": _iface("eth1", "192.168.0.15/24", 5),
        "flannel.1": _iface("flannel.1", "172.18.100.0/32", 8, kind="vxlan", vxlan=vx, mtu=1450),
        "docker0": _iface("docker0", "172.18.100.1/24", 11, kind="bridge", mtu=1450),
    }
    if payload:
        ifaces[payload] = _iface(payload, None, 14)
    files_cfg = FlannelConfig(origin="files", argv=["-etcd-endpoints=https://192.168.0.15:4003"], flags={
        "etcd-endpoints": FlagValue(name="etcd-endpoints", value="https://192.168.0.15:4003", via="FLANNEL_OPTS",
                                    src=P("flannel/etc-default-flanneld", 1)),
    })
    proc_cfg = FlannelConfig(origin="process", argv=["/usr/bin/flanneld", "-etcd-endpoints=https://192.168.0.15:4003"],
                             flags=dict(files_cfg.flags))
    unparsed = [UnparsedLine(line=5, text=payload or "Nov 26 09:10:11 master flanneld[912]: something odd")]
    return Host(
        name=name,
        bundle=BundleInfo(path=f"fixtures/incident-a/{name}", kind="collector", sha256="a" * 64,
                          collector_version="0.1.0"),
        identity=Identity(hostname=name, kernel="3.10.0-1160.el7.x86_64", os_release={"PRETTY_NAME": "CentOS 7"}),
        interfaces=ifaces,
        routes=[
            _route("0.0.0.0/0", "eth0", 3, "172.16.0.1", 100),
            _route("169.254.169.254/32", "eth0", 4, "172.16.0.2", 100),
            _route("172.16.0.0/24", "eth0", 5, metric=100),
            _route("172.18.0.0/16", "flannel.1", 6),
            _route("172.18.100.0/24", "docker0", 7),
            _route("192.168.0.0/24", "eth1", 8, metric=100),
        ],
        routes_origin="route-n",
        iptables={"iptables": _ruleset(payload)},
        sysctls={"net.ipv4.ip_forward": Sysctl(key="net.ipv4.ip_forward", value="1", src=P("kernel/sysctl", 1))},
        flannel=FlannelState(
            files_config=files_cfg, process_config=proc_cfg,
            subnet_env=SubnetEnv(network=IPv4Network("172.18.0.0/16"), subnet=IPv4Interface("172.18.100.1/24"),
                                 mtu=1450, ipmasq=False,
                                 values={"FLANNEL_NETWORK": "172.18.0.0/16", "FLANNEL_SUBNET": "172.18.100.1/24"},
                                 lines={"FLANNEL_NETWORK": 1, "FLANNEL_SUBNET": 2}, src=P("flannel/subnet.env")),
        ),
        sources=_sources(unparsed),
    )


def node1() -> Host:
    vx = VxlanInfo(vni=1, local=IPv4Address("192.168.0.16"), dev="eth0", dstport=8472, src=P("links/ip-d-link", 6))
    return Host(
        name="node1",
        bundle=BundleInfo(path="fixtures/incident-a/node1", kind="collector", sha256="b" * 64,
                          collector_version="0.1.0"),
        identity=Identity(hostname="node1"),
        interfaces={
            "eth0": _iface("eth0", "192.168.0.16/24", 2),
            "flannel.1": _iface("flannel.1", "172.18.36.0/32", 5, kind="vxlan", vxlan=vx, mtu=1450),
            "docker0": _iface("docker0", "172.18.36.1/24", 8, kind="bridge", mtu=1450),
        },
        routes=[_route("0.0.0.0/0", "eth0", 3, "192.168.0.1"), _route("192.168.0.0/24", "eth0", 4)],
        sources={"ip_addr": SourceStatus(source="ip_addr", state=SourceState.OK, file="links/ip-d-address")},
    )


def snapshot(payload: str = "") -> Snapshot:
    name = f"master{payload}" if payload else "master"
    return Snapshot(hosts=[master(name, payload), node1()])


def result(payload: str = "") -> AnalysisResult:
    m = f"master{payload}" if payload else "master"
    path = f"{m} → node1 pods (172.18.36.0/24)"
    findings = [
        Finding(
            rule="NS301", cause="flannel-wrong-iface", severity=Severity.ERROR, confidence=Confidence.HIGH,
            title="flannel uses an interface its peers cannot reach", hosts=[m], key="master-eth0",
            explanation="flanneld chose eth0 (172.16.0.4), the default-route NIC; node1 only reaches 192.168.0.0/24."
            + payload,
            evidence=[Evidence(host=m, file="flannel/journal", line=3, text="Using 172.16.0.4 as external interface"
                               + payload),
                      Evidence(host=m, file="routes/route-n", line=3,
                               text="0.0.0.0  172.16.0.1  0.0.0.0  UG 100 0 0 eth0")],
            remediation=["FLANNEL_OPTS=\"... -iface=eth1 -public-ip=192.168.0.15\"", "systemctl restart flanneld"],
            references=["https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md",
                        JSURL, "flannel Documentation/troubleshooting.md"],
            path=path, impact=90,
        ),
        Finding(
            rule="NS201", cause="iptables-reject", severity=Severity.ERROR, confidence=Confidence.HIGH,
            title="INPUT rejects VXLAN from peers", hosts=[m], key="master-INPUT",
            explanation="The INPUT chain rejects UDP 8472 from node1 before any accept.",
            evidence=[Evidence(host=m, file="firewall/iptables-save", line=7,
                               text="-A INPUT -j REJECT --reject-with icmp-host-prohibited" + payload)],
            remediation=["iptables -I INPUT -p udp --dport 8472 -s 192.168.0.0/24 -j ACCEPT"],
            references=["https://access.redhat.com/solutions/" + payload], path=path, impact=80,
        ),
        Finding(
            rule="NS302", cause="vxlan-port-blocked", severity=Severity.ERROR, confidence=Confidence.MEDIUM,
            title="Security group does not allow UDP 8472", hosts=[m], key="master-sg",
            explanation="The master's security group has no ingress or egress rule for UDP 8472.",
            evidence=[Evidence(host=m, file="sg-master.json", line=0, text="no rule allows udp 8472")],
            remediation=["openstack security group rule create --ingress --protocol udp --dst-port 8472 SG"],
            references=[], path=path, impact=70,
        ),
        Finding(
            rule="NS101", cause="duplicate-default-route", severity=Severity.INFO, confidence=Confidence.LOW,
            title="Default route via a management network", hosts=[m], key="master",
            explanation="The default route leaves through eth0.",
            evidence=[Evidence(host=m, file="routes/route-n", line=3, text="0.0.0.0 172.16.0.1 UG eth0")],
        ),
    ]
    trace = TraceResult(
        src_host=m, src_ip="172.18.100.0", dst_ip="172.18.36.2", proto="icmp", verdict="unreachable",
        disposition="denied-in", reason="node1 never receives the VXLAN packet",
        hops=[
            Step(host=m, stage="route", action="forward", detail="172.18.0.0/16 dev flannel.1",
                 consulted=[Evidence(host=m, file="routes/route-n", line=6, text="172.18.0.0 0.0.0.0 flannel.1")]),
            Step(host=m, stage="vxlan encap", action="encapsulate", detail="to VTEP 192.168.0.16 udp 8472 from "
                 "172.16.0.4" + payload),
            Step(host=m, stage="security group egress", action="deny", detail="no egress rule for udp 8472"),
        ],
    )
    return AnalysisResult(
        netsnap_version="0.1.0", rules_version="test-1",
        hosts=[HostSummary(name=m, bundle="fixtures/incident-a/master", kind="collector", sha256="a" * 64,
                           collector_version="0.1.0", collected_at="2026-11-26T09:12:00Z", sources_ok=4,
                           sources_missing=["ethtool"], unparsed_lines=1),
               HostSummary(name="node1", bundle="fixtures/incident-a/node1", kind="collector", sha256="b" * 64,
                           collector_version="0.1.0", collected_at="2026-11-26T09:13:00Z", sources_ok=1)],
        findings=findings,
        not_evaluated=[NotEvaluated(rule="NS405", title="VXLAN checksum offload bug", hosts=[m],
                                    missing=["ethtool"], reason="command missing: ethtool -k flannel.1")],
        rule_runs=[
            RuleRun(rule="NS101", title="t", cause="duplicate-default-route", category="routing", status="fired"),
            RuleRun(rule="NS102", title="t", cause="duplicate-subnet-route", category="routing", status="passed"),
            RuleRun(rule="NS201", title="t", cause="iptables-reject", category="firewall", status="fired"),
            RuleRun(rule="NS301", title="t", cause="flannel-wrong-iface", category="flannel", status="fired"),
            RuleRun(rule="NS302", title="t", cause="vxlan-port-blocked", category="security-group", status="fired"),
            RuleRun(rule="NS401", title="t", cause="ip-forward-disabled", category="kernel", status="passed"),
            RuleRun(rule="NS405", title="t", cause="vxlan-checksum-offload", category="kernel",
                    status="not-evaluated"),
        ],
        traces=[trace.model_dump(mode="json")],
    )


RAW_FILES = {
    "master": {"routes/route-n": "Kernel IP routing table\n0.0.0.0 172.16.0.1 0.0.0.0 UG 100 0 0 eth0\n",
               "firewall/iptables-save": "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j REJECT\nCOMMIT\n"},
}
