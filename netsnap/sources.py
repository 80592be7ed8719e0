"""The registry of logical sources: what each is, where it lives in a bundle, how it is collected.

This table is the single place that names sources. The collector writes each source to `path`
(relative to the bundle root), the bundle reader maps sosreports and loose files onto the same ids,
and parsers, rules ("requires") and reports refer to sources by `id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The fact vocabulary: what rules and the analysis need, whatever command supplied it. A rule requires
#: facts (never source ids); a fact is present when any source that carries it was read well enough.
FACTS: dict[str, str] = {
    "identity": "host name, kernel and OS",
    "routes": "the routing tables",
    "policy_rules": "the routing policy rules (ip rule)",
    "addresses": "interface addresses",
    "link_details": "link details: kind, MTU, state, VXLAN id/local/dev/dstport",
    "link_counters": "link packet counters",
    "neighbours": "the neighbour (ARP) table",
    "fdb": "the bridge forwarding database (VXLAN fdb entries)",
    "firewall": "the IPv4 packet filter (iptables views, nftables)",
    "firewall_ipv6": "the IPv6 packet filter",
    "firewall_manager": "firewalld's and UFW's state and configuration (zones, defaults; not the ruleset)",
    "ipsets": "ipset contents",
    "sysctls": "kernel parameters (sysctl)",
    "modules": "loaded kernel modules",
    "kernel_log": "the kernel log (dmesg)",
    "offloads": "NIC offload settings (ethtool -k)",
    "flannel_config": "flanneld's configuration (flags, env files, unit, net-conf)",
    "flannel_lease": "flannel's lease (subnet.env)",
    "flannel_log": "flanneld's log (journal or pod logs)",
}


@dataclass(frozen=True)
class Source:
    id: str
    path: str
    title: str
    command: str
    sos_paths: tuple[str, ...] = field(default_factory=tuple)
    group: str = "other"
    facts: tuple[str, ...] = field(default_factory=tuple)
    # the command prints nothing when there is nothing (no rules loaded, no neighbours): empty output
    # with exit code 0 is an answer ("none"), not a missing source
    empty_ok: bool = False

    def __post_init__(self) -> None:
        unknown = [f for f in self.facts if f not in FACTS]
        if unknown:
            raise ValueError(f"source {self.id}: unknown facts {unknown}")


SOURCES: tuple[Source, ...] = (
    # identity
    Source("hostname", "identity/hostname", "host name", "hostname",
           ("hostname", "sos_commands/general/hostname", "etc/hostname"), "identity", facts=("identity",)),
    Source("uname", "identity/uname", "kernel", "uname -a",
           ("uname", "sos_commands/kernel/uname_-a"), "identity", facts=("identity",)),
    Source("os_release", "identity/os-release", "OS release", "cat /etc/os-release",
           ("etc/os-release",), "identity", facts=("identity",)),
    Source("date", "identity/date", "collection date", "date -u",
           ("date", "sos_commands/general/date"), "identity", facts=("identity",)),
    Source("uptime", "identity/uptime", "uptime", "uptime",
           ("uptime", "sos_commands/host/uptime"), "identity", facts=("identity",)),
    # routing
    Source("route_n", "routes/route-n", "route -n", "route -n",
           ("sos_commands/networking/route_-n",), "routing", facts=("routes",)),
    Source("proc_net_route", "routes/proc-net-route", "/proc/net/route", "cat /proc/net/route",
           ("proc/net/route",), "routing", facts=("routes",)),
    Source("ip_route", "routes/ip-route", "ip route show table all", "ip route show table all",
           ("sos_commands/networking/ip_route_show_table_all",), "routing", facts=("routes",)),
    Source("ip_rule", "routes/ip-rule", "ip rule", "ip rule",
           ("sos_commands/networking/ip_rule", "sos_commands/networking/ip_rule_list"), "routing",
           facts=("policy_rules",)),
    # links
    Source("ip_addr", "links/ip-d-address", "ip -d address", "ip -d address",
           ("sos_commands/networking/ip_-d_address", "sos_commands/networking/ip_address"), "links",
           facts=("addresses", "link_details")),
    Source("ip_link", "links/ip-d-link", "ip -d link show", "ip -d link show",
           ("sos_commands/networking/ip_-d_link", "sos_commands/networking/ip_link"), "links", facts=("link_details",)),
    Source("ip_link_stats", "links/ip-s-link", "ip -s link", "ip -s link",
           ("sos_commands/networking/ip_-s_-d_link", "sos_commands/networking/ip_-s_link"), "links",
           facts=("link_counters", "link_details")),
    Source("ip_neigh", "neigh/ip-neigh", "ip neigh", "ip neigh show",
           ("sos_commands/networking/ip_neigh_show", "sos_commands/networking/ip_-4_neighbor_show"), "links",
           facts=("neighbours",), empty_ok=True),
    Source("bridge_fdb", "neigh/bridge-fdb", "bridge fdb show", "bridge fdb show",
           ("sos_commands/networking/bridge_-d_fdb_show", "sos_commands/networking/bridge_fdb_show"), "links",
           facts=("fdb",), empty_ok=True),
    # firewall
    Source("iptables_save", "firewall/iptables-save", "iptables-save -c", "iptables-save -c",
           ("sos_commands/networking/iptables-save", "sos_commands/firewall_tables/iptables-save"), "firewall",
           facts=("firewall",), empty_ok=True),
    Source("ip6tables_save", "firewall/ip6tables-save", "ip6tables-save -c", "ip6tables-save -c",
           ("sos_commands/networking/ip6tables-save", "sos_commands/firewall_tables/ip6tables-save"), "firewall",
           facts=("firewall_ipv6",), empty_ok=True),
    Source("iptables_legacy_save", "firewall/iptables-legacy-save", "iptables-legacy-save -c",
           "iptables-legacy-save -c", (), "firewall", facts=("firewall",), empty_ok=True),
    Source("iptables_nft_save", "firewall/iptables-nft-save", "iptables-nft-save -c",
           "iptables-nft-save -c", (), "firewall", facts=("firewall",), empty_ok=True),
    Source("iptables_list", "firewall/iptables-nvL", "iptables -vnxL (list format, sosreports)",
           "iptables -t TABLE -vnxL",
           ("sos_commands/firewall_tables/iptables_-vnxL", "sos_commands/networking/iptables_-vnxL",
            "sos_commands/firewall_tables/iptables_-t_filter_-nvL",
            "sos_commands/networking/iptables_-t_filter_-nvL"), "firewall", facts=("firewall",)),
    Source("ipset", "firewall/ipset-save", "ipset save", "ipset save",
           ("sos_commands/networking/ipset_list", "sos_commands/firewall_tables/ipset_list"), "firewall",
           facts=("ipsets",), empty_ok=True),
    # nftables (native tables: firewalld, /etc/nftables.conf, kube-proxy's nftables mode) and firewalld.
    # sos files per sos release (plugin sources, tags 3.5 .. 4.12): `nft -a list ruleset` in firewall_tables
    # from 4.6.1; `nft list ruleset` in firewall_tables 4.1 .. 4.6.0, in firewalld 3.7 .. 4.2 and in
    # networking 3.5 .. 4.0. sos never collects the JSON form, nor --get-default-zone/--get-active-zones.
    Source("nft_json", "firewall/nft-ruleset.json", "nft -j list ruleset", "nft -j list ruleset", (), "firewall",
           facts=("firewall", "firewall_ipv6"), empty_ok=True),
    Source("nft_text", "firewall/nft-list-ruleset", "nft -a list ruleset", "nft -a list ruleset",
           ("sos_commands/firewall_tables/nft_-a_list_ruleset", "sos_commands/firewall_tables/nft_list_ruleset",
            "sos_commands/firewalld/nft_list_ruleset", "sos_commands/networking/nft_list_ruleset"), "firewall",
           facts=("firewall", "firewall_ipv6"), empty_ok=True),
    Source("firewalld_state", "firewall/firewalld-state", "firewall-cmd --state", "firewall-cmd --state",
           ("sos_commands/firewalld/firewall-cmd_--state",), "firewall", facts=("firewall_manager",)),
    Source("firewalld_default_zone", "firewall/firewalld-default-zone", "firewall-cmd --get-default-zone",
           "firewall-cmd --get-default-zone", (), "firewall", facts=("firewall_manager",)),
    Source("firewalld_active_zones", "firewall/firewalld-active-zones", "firewall-cmd --get-active-zones",
           "firewall-cmd --get-active-zones", (), "firewall", facts=("firewall_manager",)),
    Source("firewalld_log_denied", "firewall/firewalld-log-denied", "firewall-cmd --get-log-denied",
           "firewall-cmd --get-log-denied", ("sos_commands/firewalld/firewall-cmd_--get-log-denied",), "firewall",
           facts=("firewall_manager",)),
    Source("firewalld_zones", "firewall/firewalld-list-all-zones", "firewall-cmd --list-all-zones",
           "firewall-cmd --list-all-zones", ("sos_commands/firewalld/firewall-cmd_--list-all-zones",), "firewall",
           facts=("firewall_manager",)),
    Source("firewalld_conf", "firewall/firewalld.conf", "/etc/firewalld/firewalld.conf",
           "cat /etc/firewalld/firewalld.conf", ("etc/firewalld/firewalld.conf",), "firewall",
           facts=("firewall_manager",)),
    # UFW (its rules are iptables chains `ufw-*`: the iptables views evaluate them); sos >= 4.1 runs
    # `ufw status numbered` and copies /etc/ufw, not /etc/default/ufw
    Source("ufw_status", "firewall/ufw-status", "ufw status verbose", "ufw status verbose",
           ("sos_commands/ufw/ufw_status_numbered",), "firewall", facts=("firewall_manager",)),
    Source("ufw_default", "firewall/etc-default-ufw", "/etc/default/ufw", "cat /etc/default/ufw", (), "firewall",
           facts=("firewall_manager",)),
    # kernel
    Source("sysctl", "kernel/sysctl", "sysctls (key = value)", "sysctl -a (selected keys)",
           ("sos_commands/kernel/sysctl_-a",), "kernel", facts=("sysctls",)),
    Source("lsmod", "kernel/lsmod", "lsmod (vxlan, br_netfilter, nf_conntrack)", "lsmod",
           ("sos_commands/kernel/lsmod",), "kernel", facts=("modules",)),
    Source("dmesg", "kernel/dmesg", "dmesg tail", "dmesg",
           ("sos_commands/kernel/dmesg", "sos_commands/logs/dmesg"), "kernel", facts=("kernel_log",)),
    Source("ethtool", "kernel/ethtool-k", "ethtool -k flannel.*", "ethtool -k DEV",
           ("sos_commands/networking/ethtool_-k_flannel.1",), "kernel", facts=("offloads",)),
    # flannel
    Source("flannel_journal", "flannel/journal", "flanneld journal", "journalctl -u flanneld -o short-iso",
           ("sos_commands/logs/journalctl_--no-pager_--unit_flanneld", "sos_commands/logs/journalctl_--no-pager",
            "sos_commands/logs/journalctl_--no-pager_--boot",
            "sos_commands/logs/journalctl_--no-pager_--catalog_--boot",
            "sos_commands/logs/journalctl_--all_--this-boot_--no-pager",
            "sos_commands/logs/journalctl_--no-pager_--boot_-1"), "flannel", facts=("flannel_log",)),
    Source("flannel_env_default", "flannel/etc-default-flanneld", "/etc/default/flanneld",
           "cat /etc/default/flanneld", ("etc/default/flanneld",), "flannel", facts=("flannel_config",)),
    Source("flannel_env_sysconfig", "flannel/etc-sysconfig-flanneld", "/etc/sysconfig/flanneld",
           "cat /etc/sysconfig/flanneld", ("etc/sysconfig/flanneld",), "flannel", facts=("flannel_config",)),
    Source("subnet_env", "flannel/subnet.env", "/run/flannel/subnet.env", "cat /run/flannel/subnet.env",
           ("run/flannel/subnet.env",), "flannel", facts=("flannel_lease",)),
    Source("options_env", "flannel/options.env", "/run/flannel/options.env", "cat /run/flannel/options.env",
           ("run/flannel/options.env",), "flannel", facts=("flannel_config",)),
    Source("net_conf", "flannel/net-conf.json", "kube-flannel net-conf.json",
           "cat /etc/kube-flannel/net-conf.json", ("etc/kube-flannel/net-conf.json",), "flannel",
           facts=("flannel_config",)),
    Source("flannel_unit", "flannel/systemctl-cat", "flanneld systemd unit", "systemctl cat flanneld",
           ("sos_commands/systemd/systemctl_cat_flanneld", "usr/lib/systemd/system/flanneld.service",
            "etc/systemd/system/flanneld.service"), "flannel", facts=("flannel_config",)),
    Source("flannel_cmdline", "flannel/cmdline", "running flanneld command line",
           "tr '\\0' '\\n' < /proc/PID/cmdline", (), "flannel", facts=("flannel_config",)),
    Source("flannel_pod_logs", "flannel/pod-logs", "kube-flannel container logs",
           "cat /var/log/pods/kube-system_kube-flannel*/*/*.log", (), "flannel", facts=("flannel_log",)),
)

BY_ID: dict[str, Source] = {s.id: s for s in SOURCES}
assert all(s.facts for s in SOURCES), "every source names the facts it carries"
BY_PATH: dict[str, Source] = {s.path: s for s in SOURCES}
BY_SOS_PATH: dict[str, Source] = {p: s for s in SOURCES for p in s.sos_paths}


def host_path(key: str) -> str | None:
    """The file on the host that a source id or a bundle member path (collector or sosreport layout) holds:
    `flannel/etc-default-flanneld`, `etc/default/flanneld` and `flannel_env_default` all give
    `/etc/default/flanneld`. None for command output and for files read by pattern (pod logs)."""
    source = BY_ID.get(key) or BY_PATH.get(key) or BY_SOS_PATH.get(key)
    if source is None:
        return None
    words = source.command.split()
    if len(words) != 2 or words[0] != "cat" or not words[1].startswith("/") or "*" in words[1]:
        return None
    return words[1]

# Sources only a sosreport holds: sos lists the nat, mangle and raw tables in files of their own
# (`iptables -t nat -nvL`...). They are kept out of SOURCES (the collector writes, and every bundle's
# inventory lists, exactly SOURCES), so they are reported only when a sosreport has them. Each file
# keeps its own status (file, unparsed lines); the iptables_list parser reads it (parsers/registry.py)
# and the load layer merges its tables into the list Ruleset.
SOS_ONLY_SOURCES: tuple[Source, ...] = tuple(
    Source(f"iptables_list_{table}", "", f"iptables -t {table} -nvL (list format, sosreports)",
           f"iptables -t {table} -nvL",
           (f"sos_commands/firewall_tables/iptables_-t_{table}_-nvL",
            f"sos_commands/networking/iptables_-t_{table}_-nvL"),
           "firewall", facts=("firewall",))
    for table in ("nat", "mangle", "raw")
)
SOS_ONLY_BY_ID: dict[str, Source] = {s.id: s for s in SOS_ONLY_SOURCES}

MANIFEST_PATH = "manifest.json"
