"""Re-capture the nftables and firewalld parser fixtures from the real tools (root, `ip netns`, nft,
iptables-nft and firewalld needed):

    .venv/bin/python -m tests.nft.capture_fixtures
    NETSNAP_REGEN=1 .venv/bin/pytest tests/parsers/test_fixture_pairs.py -k "nft or firewalld"   # then review

Every `.in` file is what the tool printed in a fresh network namespace, except the few marked
"derived" below, which this script makes from a real capture by a stated transformation (a loose
paste, pretty-printed and cut-off JSON, firewalld.conf without its comments). What was loaded:

- `fixtures/nft/rulesets/*.nft` (rulesets written for these tests) with `nft -f`;
- iptables-nft rules (`IPTABLES_NFT` below), listed by nft as iptables-nft left them;
- Debian 12's firewalld 1.3.3 run for real (tests/lab/firewalld.py), first as installed, then with the
  zone changes in `FIREWALLD_CLUSTER` made through `firewall-cmd`;
- Debian 12's ufw 0.36.2, inactive, then enabled with the rules in `UFW_RULES`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.lab.firewalld import Firewalld
from tests.lab.netns import NetnsLab

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "parsers" / "fixtures"
RULESETS = REPO / "fixtures" / "nft" / "rulesets"
IPTABLES_NFT = """
iptables-nft -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
iptables-nft -A INPUT -p udp --dport 8472 -s 192.168.0.0/24 -m comment --comment "flannel vxlan" -j ACCEPT
iptables-nft -A INPUT -p tcp -m conntrack --ctstate NEW -m multiport --dports 22,80 -j ACCEPT
iptables-nft -A INPUT -m addrtype --dst-type LOCAL -m limit --limit 5/min -j LOG
iptables-nft -A INPUT -j REJECT --reject-with icmp-host-prohibited
iptables-nft -N KUBE-FORWARD
iptables-nft -A FORWARD -j KUBE-FORWARD
iptables-nft -A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
iptables-nft -P FORWARD DROP
iptables-nft -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE
iptables-nft -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.244.1.5:8080
"""
FIREWALLD_CLUSTER = (
    ("--zone=public", "--add-interface=eth1"),
    ("--zone=trusted", "--add-source=10.244.0.0/16"),
    ("--zone=public", "--add-port=8472/udp"),
    ("--zone=public", "--add-masquerade"),
    ("--zone=public", '--add-rich-rule=rule family="ipv4" source address="192.168.0.0/24" port port="10250" '
     'protocol="tcp" accept'),
)


def write(source: str, name: str, text: str) -> None:
    d = OUT / source
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}.in").write_text(text)
    print(f"wrote {source}/{name}.in ({len(text)} chars)")


def run(lab: NetnsLab, host: str, cmd: str, merge_stderr: bool = False) -> str:
    res = lab.sh(host, cmd + (" 2>&1" if merge_stderr else ""))
    return res.stdout


def capture_rulesets(lab: NetnsLab) -> None:
    for nft in sorted(RULESETS.glob("*.nft")):
        host = nft.stem
        lab.add(host)
        lab.sh(host, f"nft -f {nft}")
        write("nft_text", f"{host}-nft-1.0.6-a", run(lab, host, "nft -a list ruleset"))
        write("nft_json", f"{host}-nft-1.0.6", run(lab, host, "nft -j list ruleset"))
    plain = run(lab, "diverse", "nft list ruleset")
    write("nft_text", "diverse-nft-1.0.6-plain", plain)
    # derived: a loose paste as tickets have it (prompt line, CRLF, no indentation, cut off mid-chain)
    lines = ["[root@node1 ~]# nft list ruleset", *[ln.strip() for ln in plain.splitlines()]]
    cut = next(i for i, ln in enumerate(lines) if ln.startswith("chain in_mgmt")) + 2
    write("nft_text", "paste-crlf-truncated-derived", "\r\n".join(lines[:cut]) + "\r\n")
    doc = json.loads(run(lab, "diverse", "nft -j list ruleset"))
    write("nft_json", "diverse-pretty-derived", json.dumps(doc, indent=2) + "\n")  # derived: `| jq .` style
    one_line = run(lab, "diverse", "nft -j list ruleset")
    write("nft_json", "cut-off-derived", one_line[: len(one_line) // 2] + "\n")  # derived: a truncated copy


def capture_compat(lab: NetnsLab) -> None:
    lab.add("compat")
    lab.sh("compat", IPTABLES_NFT)
    # sos runs commands with stderr merged: nft's "managed by iptables-nft" warnings land in the file
    write("nft_text", "iptables-nft-1.8.9-compat-sos-stderr", run(lab, "compat", "nft list ruleset", True))
    write("nft_json", "iptables-nft-1.8.9-compat", run(lab, "compat", "nft -j list ruleset"))


def capture_firewalld(lab: NetnsLab, work: Path) -> None:
    lab.add("fw")
    lab.sh("fw", "ip link add eth1 type veth peer name eth1p && ip link set eth1 up")
    state = lab.sh("fw", "firewall-cmd --state", check=False)
    write("firewalld_state", "no-system-bus", state.stdout + state.stderr)
    fw = Firewalld(lab, "fw", work / "fw").start()
    try:
        write("nft_text", "firewalld-1.3.3-default-plain", run(lab, "fw", "nft list ruleset"))
        for args in FIREWALLD_CLUSTER:
            fw.cmd(*args)
        write("nft_text", "firewalld-1.3.3-cluster-a", run(lab, "fw", "nft -a list ruleset"))
        write("nft_json", "firewalld-1.3.3-cluster", run(lab, "fw", "nft -j list ruleset"))
        write("firewalld_state", "running", fw.cmd("--state").stdout)
        write("firewalld_default_zone", "public", fw.cmd("--get-default-zone").stdout)
        write("firewalld_log_denied", "off", fw.cmd("--get-log-denied").stdout)
        write("firewalld_active_zones", "firewalld-1.3.3-cluster", fw.cmd("--get-active-zones").stdout)
        write("firewalld_zones", "firewalld-1.3.3-cluster", fw.cmd("--list-all-zones").stdout)
        conf = (fw.etc / "firewalld.conf").read_text()
        keys = [ln for ln in conf.splitlines() if ln.strip() and not ln.startswith("#")]
        # derived: the installed file's settings without firewalld's comment text, plus two lines of ours
        write("firewalld_conf", "debian12-settings-derived",
              "# firewalld.conf of the lab host (settings only)\n\n" + "\n".join(keys) + "\n  # indented comment\n")
    finally:
        fw.stop()


UFW_RULES = """ufw --force enable >/dev/null
ufw allow 22/tcp >/dev/null
ufw allow from 192.168.0.0/24 to any port 8472 proto udp comment 'flannel vxlan' >/dev/null
ufw deny in on eth1 to any port 10250 proto tcp >/dev/null
"""


def capture_ufw(lab: NetnsLab, work: Path) -> None:
    """ufw 0.36.2 in a namespace with private copies of /etc/ufw and /etc/default/ufw (bind mounts in a
    private mount namespace: the host's files never change)."""
    lab.add("ufw")
    lab.sh("ufw", "ip link add eth1 type veth peer name eth1p && ip link set eth1 up")
    etc, default = work / "etc-ufw", work / "default-ufw"
    shutil.copytree("/etc/ufw", etc, symlinks=True)
    shutil.copy("/etc/default/ufw", default)
    mounts = f"mount --bind {etc} /etc/ufw && mount --bind {default} /etc/default/ufw"

    def inside(script: str) -> str:
        path = work / "step.sh"
        path.write_text(f"set -e\n{mounts}\n{script}")
        return lab.sh("ufw", f"unshare -m sh {path}").stdout

    write("ufw_status", "ufw-0.36.2-inactive", inside("ufw status verbose"))
    write("ufw_status", "ufw-0.36.2-active-verbose", inside(UFW_RULES + "ufw status verbose"))
    write("ufw_status", "ufw-0.36.2-active-numbered", inside("ufw status numbered"))
    keys = [ln for ln in default.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    # derived: the installed file's settings without ufw's comment text
    write("ufw_default", "debian12-settings-derived", "# /etc/default/ufw of the lab host (settings only)\n"
          + "\n".join(keys) + "\n")


RULE_CASES = REPO / "fixtures" / "rules" / "NS201"
CASE_FILES = {  # bundle path -> how it is taken
    "firewall/nft-ruleset.json": "nft -j list ruleset",
    "firewall/nft-list-ruleset": "nft -a list ruleset",
}
FW_QUERIES = {
    "firewall/firewalld-state": ("--state",),
    "firewall/firewalld-default-zone": ("--get-default-zone",),
    "firewall/firewalld-active-zones": ("--get-active-zones",),
    "firewall/firewalld-log-denied": ("--get-log-denied",),
    "firewall/firewalld-list-all-zones": ("--list-all-zones",),
}


def capture_rule_cases(lab: NetnsLab, work: Path) -> None:
    """node1 of fixtures/healthy with firewalld: `fire-firewalld` is firewalld as installed with eth0 and
    eth1 in the public zone (it rejects the overlay); `pass-firewalld` adds 8472/udp and the pod network
    10.244.0.0/16 to the trusted zone. The files overlay the healthy node1 (tests/rules/bundles.py)."""
    lab.add("case")
    lab.sh("case", "for i in eth0 eth1; do ip link add $i type veth peer name ${i}p && ip link set $i up; done")
    fw = Firewalld(lab, "case", work / "case").start()
    try:
        fw.cmd("--zone=public", "--add-interface=eth0")
        fw.cmd("--zone=public", "--add-interface=eth1")
        for case, changes in (("fire-firewalld", ()),
                              ("pass-firewalld", (("--zone=public", "--add-port=8472/udp"),
                                                  ("--zone=trusted", "--add-source=10.244.0.0/16")))):
            for args in changes:
                fw.cmd(*args)
            dest = RULE_CASES / case / "node1"
            for rel, cmd in CASE_FILES.items():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                (dest / rel).write_text(run(lab, "case", cmd))
            for rel, query in FW_QUERIES.items():
                (dest / rel).write_text(fw.cmd(*query).stdout)
            conf = (fw.etc / "firewalld.conf").read_text().splitlines()  # settings only (derived: no comments)
            (dest / "firewall/firewalld.conf").write_text("\n".join(ln for ln in conf if ln and ln[0] != "#") + "\n")
            print(f"wrote {dest}")
    finally:
        fw.stop()


def main() -> None:
    if shutil.which("nft") is None:
        raise SystemExit("nft is not installed")
    with tempfile.TemporaryDirectory() as tmp, NetnsLab() as lab:
        capture_rulesets(lab)
        capture_compat(lab)
        capture_firewalld(lab, Path(tmp))
        capture_rule_cases(lab, Path(tmp))
        if shutil.which("ufw"):
            capture_ufw(lab, Path(tmp) / "ufw")
    subprocess.run(["nft", "--version"], check=False)


if __name__ == "__main__":
    main()
