"""Generate a large synthetic node for the parse benchmark (deterministic, no network).

At scale 1.0: 100,000 iptables rules in kube-proxy's style in 30,000 chains (KUBE-SVC-/KUBE-SEP-/
KUBE-FW- hashed names, comments, statistic probability, DNAT, mark), written both as `iptables-save`
and as the list format (`iptables -t TABLE -vnxL`, what sosreports hold); 10,000 routes as
`route -n` and as `ip route`; 200,000 flanneld journal lines (`journalctl -o short-iso`).
`scale` shrinks everything proportionally (the benchmark's linearity check uses 1/4 and 1/2).

Run alone: `python bench/generate.py OUTDIR [SCALE]`.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

FILES = {
    "iptables_save": "iptables-save",
    "iptables_save_counters": "iptables-save-c",
    "iptables_list": "iptables-vnxL",
    "route_n": "route-n",
    "ip_route": "ip-route",
    "flannel_journal": "journal",
}


@dataclass(frozen=True)
class Sizes:
    services: int  # each service: 1 KUBE-SVC chain + 2 KUBE-SEP chains = 3 chains, 10 rules
    routes: int
    journal: int


def sizes(scale: float) -> Sizes:
    return Sizes(services=max(1, int(10_000 * scale)), routes=max(1, int(10_000 * scale)),
                 journal=max(1, int(200_000 * scale)))


def _hash(kind: str, *parts: object) -> str:
    digest = hashlib.sha256(("/".join(str(p) for p in parts) + kind).encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(alphabet[b % 32] for b in digest[:16])


def _ip(base: int, i: int) -> str:
    n = base + i
    return f"{(n >> 24) & 255}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


CLUSTER_BASE = (10 << 24) | (96 << 16)
POD_BASE = (10 << 24) | (244 << 16)


@dataclass
class Rule:
    chain: str
    spec: str  # save-format spec after `-A CHAIN`
    row: str  # list-format row after the counters
    pkts: int
    bytes: int


def _nat_rules(n_services: int) -> tuple[list[str], list[Rule]]:
    """kube-proxy nat table: KUBE-SERVICES, KUBE-NODEPORTS, KUBE-SVC-*, KUBE-SEP-*, KUBE-FW-*."""
    chains: list[str] = []
    rules: list[Rule] = []
    every = 10  # one service in ten is a LoadBalancer with a KUBE-FW chain (replacing one SEP chain)
    for s in range(n_services):
        ns, svc = f"ns{s % 97}", f"svc{s}"
        name = f"{ns}/{svc}:http"
        svc_chain = f"KUBE-SVC-{_hash('svc', s)}"
        cip = _ip(CLUSTER_BASE, s + 10)
        port = 80 + s % 50
        nodeport = 30000 + s % 2700
        chains.append(svc_chain)
        rules.append(Rule("KUBE-SERVICES", f"! -s 10.244.0.0/16 -d {cip}/32 -p tcp -m comment --comment "
                          f"\"{name} cluster IP\" -m tcp --dport {port} -j KUBE-MARK-MASQ",
                          f"KUBE-MARK-MASQ  tcp  --  *      *      !10.244.0.0/16        {cip}            "
                          f"/* {name} cluster IP */ tcp dpt:{port}", 0, 0))
        rules.append(Rule("KUBE-SERVICES", f"-d {cip}/32 -p tcp -m comment --comment \"{name} cluster IP\" "
                          f"-m tcp --dport {port} -j {svc_chain}",
                          f"{svc_chain}  tcp  --  *      *       0.0.0.0/0            {cip}            "
                          f"/* {name} cluster IP */ tcp dpt:{port}", 12, 720))
        rules.append(Rule("KUBE-NODEPORTS", f"-p tcp -m comment --comment \"{name}\" -m tcp --dport {nodeport} "
                          f"-j KUBE-MARK-MASQ",
                          f"KUBE-MARK-MASQ  tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            "
                          f"/* {name} */ tcp dpt:{nodeport}", 0, 0))
        rules.append(Rule("KUBE-NODEPORTS", f"-p tcp -m comment --comment \"{name}\" -m tcp --dport {nodeport} "
                          f"-j {svc_chain}",
                          f"{svc_chain}  tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            "
                          f"/* {name} */ tcp dpt:{nodeport}", 3, 180))
        if s % every == 0:
            fw = f"KUBE-FW-{_hash('fw', s)}"
            chains.append(fw)
            rules.append(Rule(fw, f"-m comment --comment \"{name} loadbalancer IP\" -j KUBE-MARK-MASQ",
                              f"KUBE-MARK-MASQ  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
                              f"/* {name} loadbalancer IP */", 0, 0))
            rules.append(Rule(fw, f"-m comment --comment \"{name} loadbalancer IP\" -j {svc_chain}",
                              f"{svc_chain}  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
                              f"/* {name} loadbalancer IP */", 0, 0))
            rules.append(Rule(fw, f"-m comment --comment \"{name} loadbalancer IP\" -j KUBE-MARK-DROP",
                              f"KUBE-MARK-DROP  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
                              f"/* {name} loadbalancer IP */", 0, 0))
            endpoints = 1
        else:
            endpoints = 2
        for e in range(endpoints):
            sep = f"KUBE-SEP-{_hash('sep', s, e)}"
            pod = _ip(POD_BASE, s * 2 + e + 2)
            chains.append(sep)
            if e < endpoints - 1:
                prob = f"{1 / (endpoints - e):.11f}"
                rules.append(Rule(svc_chain, f"-m comment --comment \"{name}\" -m statistic --mode random "
                                  f"--probability {prob} -j {sep}",
                                  f"{sep}  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
                                  f"/* {name} */ statistic mode random probability {prob}", 7, 420))
            else:
                rules.append(Rule(svc_chain, f"-m comment --comment \"{name}\" -j {sep}",
                                  f"{sep}  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
                                  f"/* {name} */", 5, 300))
            rules.append(Rule(sep, f"-s {pod}/32 -m comment --comment \"{name}\" -j KUBE-MARK-MASQ",
                              f"KUBE-MARK-MASQ  all  --  *      *       {pod}          0.0.0.0/0            "
                              f"/* {name} */", 0, 0))
            rules.append(Rule(sep, f"-p tcp -m comment --comment \"{name}\" -m tcp -j DNAT --to-destination "
                              f"{pod}:8080",
                              f"DNAT       tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            "
                              f"/* {name} */ tcp to:{pod}:8080", 6, 360))
    return chains, rules


BUILTIN_NAT = [
    Rule("PREROUTING", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
         "KUBE-SERVICES  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
         "/* kubernetes service portals */", 900, 54000),
    Rule("OUTPUT", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
         "KUBE-SERVICES  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
         "/* kubernetes service portals */", 40, 2400),
    Rule("POSTROUTING", "-m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
         "KUBE-POSTROUTING  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
         "/* kubernetes postrouting rules */", 900, 54000),
    Rule("KUBE-MARK-MASQ", "-j MARK --set-xmark 0x4000/0x4000",
         "MARK       all  --  *      *       0.0.0.0/0            0.0.0.0/0            MARK or 0x4000", 3, 180),
    Rule("KUBE-MARK-DROP", "-j MARK --set-xmark 0x8000/0x8000",
         "MARK       all  --  *      *       0.0.0.0/0            0.0.0.0/0            MARK or 0x8000", 0, 0),
    Rule("KUBE-POSTROUTING", "-m mark ! --mark 0x4000/0x4000 -j RETURN",
         "RETURN     all  --  *      *       0.0.0.0/0            0.0.0.0/0            mark match ! 0x4000/0x4000",
         800, 48000),
    Rule("KUBE-POSTROUTING", "-j MARK --set-xmark 0x4000/0x0",
         "MARK       all  --  *      *       0.0.0.0/0            0.0.0.0/0            MARK xor 0x4000", 3, 180),
    Rule("KUBE-POSTROUTING", "-m comment --comment \"kubernetes service traffic requiring SNAT\" "
         "-j MASQUERADE --random-fully",
         "MASQUERADE  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
         "/* kubernetes service traffic requiring SNAT */ random-fully", 3, 180),
]
BUILTIN_FILTER = [
    Rule("INPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service "
         "portals\" -j KUBE-EXTERNAL-SERVICES",
         "KUBE-EXTERNAL-SERVICES  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
         "ctstate NEW /* kubernetes externally-visible service portals */", 10, 600),
    Rule("INPUT", "-p udp -m udp --dport 8472 -j ACCEPT",
         "ACCEPT     udp  --  *      *       0.0.0.0/0            0.0.0.0/0            udp dpt:8472", 5000, 500000),
    Rule("FORWARD", "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD",
         "KUBE-FORWARD  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
         "/* kubernetes forwarding rules */", 70, 4200),
    Rule("KUBE-FORWARD", "-m conntrack --ctstate INVALID -j DROP",
         "DROP       all  --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate INVALID", 0, 0),
    Rule("KUBE-FORWARD", "-m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 "
         "-j ACCEPT",
         "ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
         "/* kubernetes forwarding rules */ mark match 0x4000/0x4000", 9, 540),
    Rule("KUBE-FORWARD", "-m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate "
         "RELATED,ESTABLISHED -j ACCEPT",
         "ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
         "/* kubernetes forwarding conntrack rule */ ctstate RELATED,ESTABLISHED", 60, 3600),
]


def iptables(n_services: int) -> tuple[str, str, str]:
    """(save format without counters, save format with -c counters, list format -vnxL per table)."""
    chains, rules = _nat_rules(n_services)
    nat_builtin = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]
    nat_user = ["KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-MARK-MASQ", "KUBE-MARK-DROP", "KUBE-POSTROUTING", *chains]
    all_nat = BUILTIN_NAT[:3] + [r for r in rules if r.chain == "KUBE-SERVICES"] + \
        [Rule("KUBE-SERVICES", "-m comment --comment \"kubernetes service nodeports\" -m addrtype --dst-type LOCAL "
              "-j KUBE-NODEPORTS",
              "KUBE-NODEPORTS  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
              "/* kubernetes service nodeports */ ADDRTYPE match dst-type LOCAL", 30, 1800)] + \
        [r for r in rules if r.chain != "KUBE-SERVICES"] + BUILTIN_NAT[3:]
    filter_builtin = ["INPUT", "FORWARD", "OUTPUT"]
    filter_user = ["KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD"]
    plain: list[str] = ["# Generated by iptables-save v1.8.7 (nf_tables) on Thu Nov 26 10:00:00 2026"]
    counted: list[str] = list(plain)
    listing: list[str] = []
    for table, builtin, user, trules in (("filter", filter_builtin, filter_user, BUILTIN_FILTER),
                                         ("nat", nat_builtin, nat_user, all_nat)):
        plain.append(f"*{table}")
        counted.append(f"*{table}")
        for c in builtin:
            plain.append(f":{c} ACCEPT [0:0]")
            counted.append(f":{c} ACCEPT [100:6000]")
        for c in user:
            plain.append(f":{c} - [0:0]")
            counted.append(f":{c} - [0:0]")
        by_chain: dict[str, list[Rule]] = {c: [] for c in builtin + user}
        for r in trules:
            plain.append(f"-A {r.chain} {r.spec}")
            counted.append(f"[{r.pkts}:{r.bytes}] -A {r.chain} {r.spec}")
            by_chain.setdefault(r.chain, []).append(r)
        plain.append("COMMIT")
        counted.append("COMMIT")
        listing.append(f"# Table: {table}")
        for c, crules in by_chain.items():
            if c in builtin:
                listing.append(f"Chain {c} (policy ACCEPT 100 packets, 6000 bytes)")
            else:
                listing.append(f"Chain {c} (1 references)")
            listing.append("    pkts      bytes target     prot opt in     out     source               destination")
            for r in crules:
                listing.append(f"{r.pkts:8d} {r.bytes:10d} {r.row}")
            listing.append("")
    plain.append("# Completed on Thu Nov 26 10:00:00 2026")
    counted.append("# Completed on Thu Nov 26 10:00:00 2026")
    return "\n".join(plain) + "\n", "\n".join(counted) + "\n", "\n".join(listing) + "\n"


def routes(n: int) -> tuple[str, str]:
    """(`route -n`, `ip route`) with `n` routes: a default, flannel /24s via flannel.1, host routes."""
    rn = ["Kernel IP routing table",
          "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface",
          "0.0.0.0         192.168.1.1     0.0.0.0         UG    100    0        0 eth0"]
    ipr = ["default via 192.168.1.1 dev eth0 proto dhcp metric 100"]
    for i in range(1, n):
        if i % 2:
            net = _ip(POD_BASE, i << 8)
            gw = net.rsplit(".", 1)[0] + ".0"
            rn.append(f"{net:<15} {gw:<15} 255.255.255.0   UG    0      0        0 flannel.1")
            ipr.append(f"{net}/24 via {gw} dev flannel.1 onlink")
        else:
            host = _ip((172 << 24) | (16 << 16), i)
            rn.append(f"{host:<15} 0.0.0.0         255.255.255.255 UH    0      0        0 cali{i:08x}")
            ipr.append(f"{host} dev cali{i:08x} scope link")
    return "\n".join(rn) + "\n", "\n".join(ipr) + "\n"


def journal(n: int) -> str:
    """`journalctl -u flanneld -o short-iso` lines with klog headers."""
    msgs = [
        "main.go:518] Determining IP address of default interface",
        "main.go:531] Using interface with name eth0 and address 192.168.1.10",
        "main.go:548] Defaulting external address to interface address (192.168.1.10)",
        "kube.go:127] Waiting 10m0s for node controller to sync",
        "vxlan_network.go:60] watching for new subnet leases",
        "iptables.go:243] Some iptables rules are missing; deleting and recreating rules",
    ]
    out = []
    for i in range(n):
        s = i % 60
        m = (i // 60) % 60
        out.append(f"2026-11-26T10:{m:02d}:{s:02d}+0000 node1 flanneld[1234]: I1126 10:{m:02d}:{s:02d}.{i % 999999:06d}"
                   f"    1234 {msgs[i % len(msgs)]}")
    return "\n".join(out) + "\n"


def generate(outdir: Path, scale: float = 1.0) -> dict[str, Path]:
    """Write the node's files into `outdir`; returns source -> path."""
    sz = sizes(scale)
    outdir.mkdir(parents=True, exist_ok=True)
    plain, counted, listing = iptables(sz.services)
    rn, ipr = routes(sz.routes)
    texts = {"iptables_save": plain, "iptables_save_counters": counted, "iptables_list": listing,
             "route_n": rn, "ip_route": ipr, "flannel_journal": journal(sz.journal)}
    return _write(outdir, texts)


def _write(outdir: Path, texts: dict[str, str]) -> dict[str, Path]:
    """Each text into `outdir` under its source's file name; returns source -> path."""
    paths = {}
    for key, text in texts.items():
        path = outdir / FILES[key]
        path.write_text(text)
        paths[key] = path
    return paths


def kube_node_iptables(n_services: int) -> str:
    """`iptables-save` of a kube-proxy node with `n_services` one-endpoint ClusterIP services: per service
    4 rules in 2 chains (KUBE-SERVICES -> KUBE-SVC-*, KUBE-SVC-* -> KUBE-SEP-*, the SEP's hairpin
    KUBE-MARK-MASQ and DNAT), so 25,000 services are ~100k rules in ~50k chains (issue 17's node)."""
    head = ["# Generated by iptables-save v1.8.7 (nf_tables) on Thu Nov 26 10:00:00 2026", "*filter",
            ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
            ":KUBE-EXTERNAL-SERVICES - [0:0]", ":KUBE-FORWARD - [0:0]"]
    head += [f"-A {r.chain} {r.spec}" for r in BUILTIN_FILTER]
    head += ["COMMIT", "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":POSTROUTING ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]", ":KUBE-NODEPORTS - [0:0]",
             ":KUBE-MARK-MASQ - [0:0]", ":KUBE-MARK-DROP - [0:0]", ":KUBE-POSTROUTING - [0:0]"]
    decl: list[str] = []
    services: list[str] = []
    body: list[str] = []
    for s in range(n_services):
        name = f"ns{s % 97}/svc{s}:http"
        svc, sep = f"KUBE-SVC-{_hash('svc', s)}", f"KUBE-SEP-{_hash('sep', s, 0)}"
        cip, pod, port = _ip(CLUSTER_BASE, s + 10), _ip(POD_BASE, s * 2 + 2), 80 + s % 50
        decl += [f":{svc} - [0:0]", f":{sep} - [0:0]"]
        services.append(f"-A KUBE-SERVICES -d {cip}/32 -p tcp -m comment --comment \"{name} cluster IP\" "
                        f"-m tcp --dport {port} -j {svc}")
        body += [f"-A {svc} -m comment --comment \"{name}\" -j {sep}",
                 f"-A {sep} -s {pod}/32 -m comment --comment \"{name}\" -j KUBE-MARK-MASQ",
                 f"-A {sep} -p tcp -m comment --comment \"{name}\" -m tcp -j DNAT --to-destination {pod}:8080"]
    tail = [f"-A {r.chain} {r.spec}" for r in BUILTIN_NAT[:3]] + services + [
        "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports\" -m addrtype --dst-type LOCAL "
        "-j KUBE-NODEPORTS"] + body + [f"-A {r.chain} {r.spec}" for r in BUILTIN_NAT[3:]]
    out = head + decl + tail + ["COMMIT", "# Completed on Thu Nov 26 10:00:00 2026"]
    return "\n".join(out) + "\n"


def analyze_node(outdir: Path, services: int, n_routes: int, journal_lines: int) -> dict[str, Path]:
    """A node folder `netsnap analyze` reads (loose files recognised by content): `iptables-save` (see
    `kube_node_iptables`), `route-n` and, when `journal_lines` > 0, a flanneld `journal`."""
    outdir.mkdir(parents=True, exist_ok=True)
    texts = {"iptables_save": kube_node_iptables(services), "route_n": routes(n_routes)[0]}
    if journal_lines > 0:
        texts["flannel_journal"] = journal(journal_lines)
    return _write(outdir, texts)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench-node")
    for key, path in generate(target, float(sys.argv[2]) if len(sys.argv) > 2 else 1.0).items():
        print(f"{key:24} {path}")
