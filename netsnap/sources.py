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
    "platform": "the machine's vendor, product and asset tag (DMI): whether it is a cloud instance",
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
    "vxlan_module": "the vxlan kernel module's udp_port: its value and where it is set (modprobe.d)",
}


#: The sos releases whose plugin sources were read for the sosreport names below (tags of
#: github.com/sosreport/sos): every release from 3.0 to 4.12.0. `since="3.0"` means "3.0 or older".
SOS_RELEASES_READ = ("3.0", "4.12.0")


@dataclass(frozen=True)
class SosName:
    """One file a sosreport holds for a source, and the sos releases that write it.

    `path` is relative to the archive root; `*` stands for any run of characters except `/` (a
    device name, a pod id). `since` and `until` are the first and the last sos release that write the
    file (`until=None`: still written by the newest release read); `plugin` is the sos plugin that
    writes it. With `every=True` each file the pattern matches is read, in name order, as one
    source (one `ethtool -k` file per device); otherwise the first name present wins (for a pattern:
    the last match in natural order, the newest pod log). `confd=True` (with `every`) reads the files of
    all the source's names as a conf.d directory set is read (modprobe.d, sysctl.d): by file name, a
    name in an earlier directory hiding the same name in the later ones.
    """

    path: str
    plugin: str
    since: str = "3.0"
    until: str | None = None
    every: bool = False
    note: str = ""
    confd: bool = False

    def written_by(self, version: str) -> bool:
        """Whether sos `version` ("4.0", "4.5.4") writes this name."""
        v = sos_version(version)
        return sos_version(self.since) <= v and (self.until is None or v <= sos_version(self.until))


def sos_version(text: str) -> tuple[int, ...]:
    """`"4.5.4"` -> (4, 5, 4); `"4.0"` -> (4, 0, 0); trailing non-digits are ignored (`"4.0-2"`)."""
    parts: list[int] = []
    for part in text.strip().split(".")[:3]:
        digits = part[: len(part) - len(part.lstrip("0123456789"))] or "0"
        parts.append(int(digits))
    return tuple(parts + [0] * (3 - len(parts)))


def _sos(spec: SosName | str) -> SosName:
    return spec if isinstance(spec, SosName) else SosName(spec, plugin="", note="sos release range not stated")


@dataclass(frozen=True)
class Source:
    """One logical source. `sos_paths` lists the files a sosreport may hold for it (plain strings are
    accepted and mean "release range not stated"); `sos_gap` says why sos writes none, or what it
    lacks compared with the collector's output."""

    id: str
    path: str
    title: str
    command: str
    sos_paths: tuple[SosName | str, ...] = field(default_factory=tuple)
    group: str = "other"
    facts: tuple[str, ...] = field(default_factory=tuple)
    sos_gap: str = ""
    # the command prints nothing when there is nothing (no rules loaded, no neighbours): empty output
    # with exit code 0 is an answer ("none"), not a missing source
    empty_ok: bool = False
    # docs/bundle-format.md's table (generated): what the collector runs or reads (Markdown; default:
    # `command`), and how it behaves
    collected: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        unknown = [f for f in self.facts if f not in FACTS]
        if unknown:
            raise ValueError(f"source {self.id}: unknown facts {unknown}")
        names = tuple(_sos(p) for p in self.sos_paths)
        if len({n.every for n in names}) > 1:
            raise ValueError(f"source {self.id}: sos names mix every=True and alternatives")
        object.__setattr__(self, "sos_paths", names)

    @property
    def sos_names(self) -> tuple[SosName, ...]:
        return tuple(_sos(p) for p in self.sos_paths)


_NET, _FW, _KERNEL = "networking", "firewall_tables", "kernel"
_NET_CMD, _FW_CMD, _LOGS = "sos_commands/networking/", "sos_commands/firewall_tables/", "sos_commands/logs/"
_ETHTOOL_DEVICES = ("3.0-3.6: devices whose `ip -o link` line shows link/ether (flannel.1 is one); 3.7+: every "
                    "entry of /sys/class/net; 4.4+: the devices nmcli lists, else /sys/class/net")
_JOURNAL = "only when /var/log/journal exists (3.9+: and systemd-journald runs); cut to flannel's lines"
_NO_MODULES = ("skipped (not collected, sos.log says why) when none of the kernel modules it checks for are "
               "listed by lsmod, e.g. on kernels with netfilter built in; `--allow-system-changes` runs it anyway")
_TABLES_FILTER = ("only for a table /proc/net/ip_tables_names lists (legacy iptables; on an iptables-nft host the "
                  "file is empty: nothing), or by default when the file is missing (4.3+: when `nft list ruleset` "
                  "shows it)")
_NFT_MODULES = ("skipped (not collected, sos.log says why) unless the nf_tables module is listed by lsmod (4.3+: "
                "and nfnetlink); `--allow-system-changes` runs it anyway")
_KUBE = ("kubernetes plugin: runs when a kubernetes package or kubeconfig is found; RHEL and Ubuntu classes, Debian "
         "since 4.7.0")

SOURCES: tuple[Source, ...] = (
    # identity
    Source("hostname", "identity/hostname", "host name", "hostname",
           (SosName("sos_commands/host/hostname", "host", since="3.5.1"),
            SosName("sos_commands/general/hostname", "general", until="3.5"),
            SosName("etc/hostname", _NET, note="copied with /etc/host*")),
           "identity", facts=("identity",),
           collected='`hostname`',
           notes='`uname -n` when `hostname` is missing'),
    Source("uname", "identity/uname", "kernel", "uname -a",
           (SosName("sos_commands/kernel/uname_-a", _KERNEL),), "identity", facts=("identity",)),
    Source("os_release", "identity/os-release", "OS release", "cat /etc/os-release",
           (SosName("etc/os-release", "release", since="3.5.1", note="often a link to usr/lib/os-release"),
            SosName("usr/lib/os-release", "release", since="3.5.1", note="the target of the etc/os-release link"),
            SosName("etc/os-release", "general", until="3.5")),
           "identity", facts=("identity",),
           collected='`/etc/os-release`, else `/usr/lib/os-release`',
           notes='via sysroot'),
    Source("date", "identity/date", "collection date", "date -u",
           (SosName("sos_commands/date/date", "date", since="3.5.1", note="local time, not UTC"),
            SosName("sos_commands/general/date", "general", until="3.5")),
           "identity", facts=("identity",)),
    Source("uptime", "identity/uptime", "uptime", "uptime",
           (SosName("sos_commands/host/uptime", "host", since="3.5.1"),
            SosName("sos_commands/general/uptime", "general", until="3.5")),
           "identity", facts=("identity",)),
    # routing
    Source("route_n", "routes/route-n", "route -n", "route -n",
           (SosName(_NET_CMD + "route_-n", _NET, until="4.5.3", note="removed by sos PR #3221"),),
           "routing", facts=("routes",),
           collected='`route -n`',
           notes='`command-missing` without net-tools'),
    Source("proc_net_route", "routes/proc-net-route", "/proc/net/route", "cat /proc/net/route",
           (SosName("proc/net/route", _NET, note="copied with /proc/net/; proc/net is a link to self/net (4.x)"),),
           "routing", facts=("routes",),
           collected='`/proc/net/route`',
           notes='always captured (live kernel)'),
    Source("ip_route", "routes/ip-route", "ip route show table all", "ip route show table all",
           (SosName(_NET_CMD + "ip_route_show_table_all", _NET),), "routing", facts=("routes",)),
    Source("ip_rule", "routes/ip-rule", "ip rule", "ip rule",
           (SosName(_NET_CMD + "ip_-4_rule_list", _NET, since="4.4"),
            SosName(_NET_CMD + "ip_-4_rule", _NET, since="3.3", until="4.3")),
           "routing", facts=("policy_rules",)),
    # links
    Source("ip_addr", "links/ip-d-address", "ip -d address", "ip -d address",
           (SosName(_NET_CMD + "ip_-d_address", _NET, since="3.5"),
            SosName(_NET_CMD + "ip_address", _NET, until="3.4", note="no -d: no VXLAN details")),
           "links", facts=("addresses", "link_details"),
           sos_gap="the root link `ip_addr` points at `ip -o addr`, a one-line format netsnap does not read",
           collected='`ip -d address`',
           notes='`ip address` when `-d` fails (busybox `ip`), noted in `collector.log`'),
    Source("ip_link", "links/ip-d-link", "ip -d link show", "ip -d link show",
           (SosName(_NET_CMD + "ip_link", _NET, until="3.2", note="plain `ip link`: no VXLAN details"),),
           "links", facts=("link_details",),
           sos_gap="sos runs `ip -s -d link` (ip_link_stats) and `ip -d address` (ip_addr) instead, never "
                   "`ip -d link`: both carry the link details",
           collected='`ip -d link show`',
           notes='`ip link show` when `-d` fails (busybox `ip`); then no VXLAN details'),
    Source("ip_link_stats", "links/ip-s-link", "ip -s link", "ip -s link",
           (SosName(_NET_CMD + "ip_-s_-d_link", _NET, since="3.5"),
            SosName(_NET_CMD + "ip_-s_link", _NET, since="3.3", until="3.4")),
           "links", facts=("link_counters", "link_details")),
    Source("ip_neigh", "neigh/ip-neigh", "ip neigh", "ip neigh show",
           (SosName(_NET_CMD + "ip_-s_-s_neigh_show", _NET, since="3.5.1"),
            SosName(_NET_CMD + "ip_neigh_show", _NET, until="3.5")),
           "links", facts=("neighbours",), empty_ok=True),
    Source("bridge_fdb", "neigh/bridge-fdb", "bridge fdb show", "bridge fdb show",
           (SosName(_NET_CMD + "bridge_-s_-s_-d_-t_fdb_show", _NET, since="3.7"),),
           "links", facts=("fdb",), empty_ok=True,
           sos_gap="before 3.7 sos ran `brctl showmacs BRIDGE`, which lists no VXLAN fdb entries"),
    # firewall
    Source("iptables_save", "firewall/iptables-save", "iptables-save -c", "iptables-save -c", (), "firewall",
           facts=("firewall",), empty_ok=True,
           sos_gap="sos runs iptables-save only inside the other network namespaces (`ip netns exec NS "
                   "iptables-save`); for the host it lists the tables (iptables_list: no match options "
                   "beyond what `-L` prints) and the nft ruleset (nft_text)",
           collected='`iptables-save -c`',
           notes='see "Firewall" below'),
    Source("ip6tables_save", "firewall/ip6tables-save", "ip6tables-save -c", "ip6tables-save -c", (), "firewall",
           facts=("firewall_ipv6",), empty_ok=True,
           sos_gap="as iptables-save: the host's IPv6 tables are listed (`ip6tables -vnxL`), which netsnap "
                   "does not read yet"),
    Source("iptables_legacy_save", "firewall/iptables-legacy-save", "iptables-legacy-save -c",
           "iptables-legacy-save -c", (), "firewall", facts=("firewall",), empty_ok=True,
           sos_gap="sos lists one view only (the default `iptables`), never both the legacy and nft views",
           collected='`iptables-legacy-save -c`',
           notes='where installed'),
    Source("iptables_nft_save", "firewall/iptables-nft-save", "iptables-nft-save -c",
           "iptables-nft-save -c", (), "firewall", facts=("firewall",), empty_ok=True,
           sos_gap="sos lists one view only (the default `iptables`), never both the legacy and nft views",
           collected='`iptables-nft-save -c`',
           notes='where installed'),
    Source("iptables_list", "firewall/iptables-nvL", "iptables -vnxL (list format, sosreports)",
           "iptables -t TABLE -vnxL",
           (SosName(_FW_CMD + "iptables_-vnxL", _FW, since="4.1", note=_NO_MODULES),
            SosName(_NET_CMD + "iptables_-vnxL", _NET, since="3.3", until="4.0", note=_NO_MODULES),
            SosName(_FW_CMD + "iptables_-t_filter_-nvL", _FW, since="4.1",
                    note=_TABLES_FILTER),
            SosName(_NET_CMD + "iptables_-t_filter_-nvL", _NET, until="4.0", note=_TABLES_FILTER)),
           "firewall", facts=("firewall",)),
    Source("ipset", "firewall/ipset-save", "ipset save", "ipset save", (), "firewall", facts=("ipsets",),
           empty_ok=True,
           sos_gap="no sos plugin runs ipset (the firewalld plugin copies firewalld's ipset XML configuration only)",
           collected='`ipset save`',
           notes='where installed'),
    # nftables (native tables: firewalld, /etc/nftables.conf, kube-proxy's nftables mode) and firewalld.
    # sos never collects the JSON form, nor --get-default-zone/--get-active-zones.
    Source("nft_json", "firewall/nft-ruleset.json", "nft -j list ruleset", "nft -j list ruleset", (), "firewall",
           facts=("firewall", "firewall_ipv6"), empty_ok=True,
           sos_gap="sos writes the ruleset as text only (nft_text), never `nft -j`",
           collected='`nft -j list ruleset`',
           notes='see "Firewall" below'),
    Source("nft_text", "firewall/nft-list-ruleset", "nft -a list ruleset", "nft -a list ruleset",
           (SosName(_FW_CMD + "nft_-a_list_ruleset", _FW, since="4.6.1", note=_NFT_MODULES),
            SosName(_FW_CMD + "nft_list_ruleset", _FW, since="4.1", until="4.6.0", note=_NFT_MODULES),
            SosName("sos_commands/firewalld/nft_list_ruleset", "firewalld", since="3.7", until="4.2"),
            SosName(_NET_CMD + "nft_list_ruleset", _NET, since="3.4", until="4.0", note=_NFT_MODULES)),
           "firewall", facts=("firewall", "firewall_ipv6"), empty_ok=True,
           collected='`nft -a list ruleset`',
           notes='the same ruleset as text, with `# handle N`'),
    Source("firewalld_state", "firewall/firewalld-state", "firewall-cmd --state", "firewall-cmd --state",
           (SosName("sos_commands/firewalld/firewall-cmd_--state", "firewalld", since="3.7"),), "firewall",
           facts=("firewall_manager",),
           collected='`firewall-cmd --state`',
           notes='`not running` (exit 252) is kept as `ok`'),
    Source("firewalld_default_zone", "firewall/firewalld-default-zone", "firewall-cmd --get-default-zone",
           "firewall-cmd --get-default-zone", (), "firewall", facts=("firewall_manager",),
           sos_gap="sos runs `firewall-cmd --list-all-zones`, which marks the default zone, not --get-default-zone",
           collected='`firewall-cmd --get-default-zone`',
           notes='only when firewalld runs, else `absent`'),
    Source("firewalld_active_zones", "firewall/firewalld-active-zones", "firewall-cmd --get-active-zones",
           "firewall-cmd --get-active-zones", (), "firewall", facts=("firewall_manager",),
           sos_gap="sos runs `firewall-cmd --list-all-zones` (zones with their interfaces), not --get-active-zones",
           collected='`firewall-cmd --get-active-zones`',
           notes='only when firewalld runs'),
    Source("firewalld_log_denied", "firewall/firewalld-log-denied", "firewall-cmd --get-log-denied",
           "firewall-cmd --get-log-denied",
           (SosName("sos_commands/firewalld/firewall-cmd_--get-log-denied", "firewalld", since="3.7"),), "firewall",
           facts=("firewall_manager",),
           collected='`firewall-cmd --get-log-denied`',
           notes='only when firewalld runs'),
    Source("firewalld_zones", "firewall/firewalld-list-all-zones", "firewall-cmd --list-all-zones",
           "firewall-cmd --list-all-zones",
           (SosName("sos_commands/firewalld/firewall-cmd_--list-all-zones", "firewalld", since="3.2"),), "firewall",
           facts=("firewall_manager",),
           collected='`firewall-cmd --list-all-zones`',
           notes='only when firewalld runs'),
    Source("firewalld_conf", "firewall/firewalld.conf", "/etc/firewalld/firewalld.conf",
           "cat /etc/firewalld/firewalld.conf", (SosName("etc/firewalld/firewalld.conf", "firewalld", since="3.2"),),
           "firewall", facts=("firewall_manager",),
           collected='`/etc/firewalld/firewalld.conf`',
           notes='via sysroot'),
    # UFW (its rules are iptables chains `ufw-*`: the iptables views evaluate them); sos >= 4.1 runs
    # `ufw status numbered` and copies /etc/ufw, not /etc/default/ufw
    Source("ufw_status", "firewall/ufw-status", "ufw status verbose", "ufw status verbose",
           (SosName("sos_commands/ufw/ufw_status_numbered", "ufw", since="4.1"),
            SosName(_NET_CMD + "ufw_status_numbered", _NET, since="4.0", until="4.0")),
           "firewall", facts=("firewall_manager",),
           sos_gap="before 4.0 sos ran plain `ufw status` (no defaults), which netsnap does not read",
           collected='`ufw status verbose`',
           notes='see "Firewall" below'),
    Source("ufw_default", "firewall/etc-default-ufw", "/etc/default/ufw", "cat /etc/default/ufw",
           (SosName("etc/default/ufw", "system", since="3.5.1", note="copied with /etc/default"),
            SosName("etc/default/ufw", "general", until="3.5")),
           "firewall", facts=("firewall_manager",),
           collected='`/etc/default/ufw`',
           notes='via sysroot'),
    # kernel
    Source("sysctl", "kernel/sysctl", "sysctls (key = value)", "sysctl -a (selected keys)",
           (SosName("sos_commands/kernel/sysctl_-a", _KERNEL),), "kernel", facts=("sysctls",),
           collected='read from `/proc/sys`',
           notes='`key = value` lines, see below'),
    Source("lsmod", "kernel/lsmod", "lsmod (vxlan, br_netfilter, nf_conntrack)", "lsmod",
           (SosName("sos_commands/kernel/lsmod", _KERNEL),), "kernel", facts=("modules",),
           collected='`lsmod` header + `vxlan`, `br_netfilter`, `nf_conntrack` lines',
           notes=(
               "`/proc/modules` in lsmod's format when `lsmod` is missing; `absent` when the kernel has no "
               '`/proc/modules` (no module support)'
           )),
    Source("dmesg", "kernel/dmesg", "dmesg tail", "dmesg",
           (SosName("sos_commands/kernel/dmesg", _KERNEL),), "kernel", facts=("kernel_log",),
           collected='`dmesg`',
           notes='last 2000 lines, all of them kept'),
    Source("ethtool", "kernel/ethtool-k", "ethtool -k flannel.*", "ethtool -k DEV",
           (SosName(_NET_CMD + "ethtool_-k_*", _NET, every=True, note=_ETHTOOL_DEVICES),),
           "kernel", facts=("offloads",),
           collected='`ethtool -k DEV` for each `flannel.*` device',
           notes='outputs concatenated, each starts `Features for DEV:`; `empty` when there is no flannel device'),
    Source("dmi_sys_vendor", "identity/dmi-sys-vendor", "the machine's DMI vendor",
           "cat /sys/class/dmi/id/sys_vendor",
           (SosName("sys/class/dmi/id/sys_vendor", "hardware", since="3.5", note="copied with /sys/class/dmi/id/*"),),
           "identity", facts=("platform",),
           collected='`/sys/class/dmi/id/sys_vendor`',
           notes="live kernel; `absent` on machines without DMI (some VMs, ARM boards)"),
    Source("dmi_product_name", "identity/dmi-product-name", "the machine's DMI product name",
           "cat /sys/class/dmi/id/product_name",
           (SosName("sys/class/dmi/id/product_name", "hardware", since="3.5", note="copied with /sys/class/dmi/id/*"),),
           "identity", facts=("platform",),
           collected='`/sys/class/dmi/id/product_name`',
           notes="live kernel; `absent` on machines without DMI (some VMs, ARM boards)"),
    Source("dmi_chassis_asset_tag", "identity/dmi-chassis-asset-tag", "the machine's DMI chassis asset tag",
           "cat /sys/class/dmi/id/chassis_asset_tag",
           (SosName("sys/class/dmi/id/chassis_asset_tag", "hardware", since="3.5",
                    note="copied with /sys/class/dmi/id/*"),),
           "identity", facts=("platform",),
           collected='`/sys/class/dmi/id/chassis_asset_tag`',
           notes="live kernel; `absent` on machines without DMI (some VMs, ARM boards)"),
    Source("vxlan_udp_port", "kernel/vxlan-udp-port", "the vxlan module's udp_port parameter",
           "cat /sys/module/vxlan/parameters/udp_port",
           (SosName("sys/module/vxlan/parameters/udp_port", _KERNEL, note="copied with /sys/module/*/parameters"),),
           "kernel", facts=("vxlan_module",),
           collected='`/sys/module/vxlan/parameters/udp_port`',
           notes="the vxlan module's default port (live kernel); `absent` when the module is not loaded"),
    Source("modprobe_vxlan", "kernel/modprobe-d", "modprobe.d configuration (options vxlan udp_port=...)",
           "cat /etc/modprobe.d/*.conf (and /run, /usr/local/lib, /usr/lib, /lib modprobe.d)",
           (SosName("etc/modprobe.d/*.conf", _KERNEL, every=True, confd=True),
            SosName("run/modprobe.d/*.conf", _KERNEL, since="4.5.0", every=True, confd=True),
            SosName("usr/local/lib/modprobe.d/*.conf", _KERNEL, since="4.5.0", every=True, confd=True),
            SosName("usr/lib/modprobe.d/*.conf", _KERNEL, since="4.5.0", every=True, confd=True,
                    note="copied as lib/modprobe.d (a link to usr/lib on merged-/usr systems)"),
            SosName("lib/modprobe.d/*.conf", _KERNEL, since="4.5.0", every=True, confd=True)),
           "kernel", facts=("vxlan_module",),
           collected=(
               'the `*.conf` files of `/etc/modprobe.d`, `/run/modprobe.d`, `/usr/local/lib/modprobe.d`, '
               '`/usr/lib/modprobe.d`, `/lib/modprobe.d`'
           ),
           notes=(
               "in modprobe's reading order (by name; a name in several directories: the first directory's), "
               'each after a line `==> FILE <==`; via sysroot; `absent` when there is none'
           )),
    # flannel
    Source("flannel_journal", "flannel/journal", "flanneld journal", "journalctl -u flanneld -o short-iso",
           (SosName(_LOGS + "journalctl_--no-pager", "logs", since="3.3",
                    note="the whole journal (3.3-3.8: only with --all-logs), " + _JOURNAL),
            SosName(_LOGS + "journalctl_--no-pager_--since_*", "logs", since="3.3",
                    note="3.3-3.8: `--since -3days` on hosts without /var/log/messages; 3.9+: with --since"),
            SosName(_LOGS + "journalctl_--no-pager_--catalog_--boot", "logs", since="3.6", note="this boot"),
            SosName(_LOGS + "journalctl_--no-pager_--boot", "logs", since="3.3", until="3.5", note="this boot"),
            SosName(_LOGS + "journalctl_--all_--this-boot_--no-pager", "logs", since="3.2", until="3.2"),
            SosName(_LOGS + "journalctl_--no-pager_--catalog_--boot_-1", "logs", since="3.6",
                    note="the previous boot (used only when nothing of this boot is there)")),
           "flannel", facts=("flannel_log",),
           sos_gap="no sos plugin collects `journalctl -u flanneld`: netsnap filters the whole journal, which sos "
                   "cuts to its newest 100 MiB (journal_size)",
           collected=(
               '`journalctl -u flanneld -u flannel -u k3s -u k3s-agent -u rke2-server -u rke2-agent --no-pager '
               '-o short-iso -n 20001 --since -7d`'
           ),
           notes=(
               'last 20000 lines of the last 7 days (one more is asked for to detect truncation); units not in '
               'use add nothing; `empty` when journalctl prints only `-- No entries --`; redacted'
           )),
    Source("flannel_env_default", "flannel/etc-default-flanneld", "/etc/default/flanneld",
           "cat /etc/default/flanneld",
           (SosName("etc/default/flanneld", "system", since="3.5.1"),
            SosName("etc/default/flanneld", "general", until="3.5")), "flannel",
           facts=("flannel_config",),
           collected='`/etc/default/flanneld`',
           notes='via sysroot; redacted'),
    Source("flannel_env_sysconfig", "flannel/etc-sysconfig-flanneld", "/etc/sysconfig/flanneld",
           "cat /etc/sysconfig/flanneld",
           (SosName("etc/sysconfig/flanneld", "system", since="3.5.1"),
            SosName("etc/sysconfig/flanneld", "general", until="3.5")), "flannel",
           facts=("flannel_config",),
           collected='`/etc/sysconfig/flanneld`',
           notes='via sysroot; redacted'),
    Source("subnet_env", "flannel/subnet.env", "/run/flannel/subnet.env", "cat /run/flannel/subnet.env",
           (SosName("run/flannel/subnet.env", "kubernetes", since="3.9", note=_KUBE),
            SosName("var/run/flannel/subnet.env", "kubernetes", since="3.3", until="3.8", note=_KUBE)),
           "flannel", facts=("flannel_lease",),
           sos_gap="only the kubernetes plugin copies /run/flannel; it does not run on a flannel host without "
                   "kubernetes packages (or on Debian before 4.7.0)",
           collected='`/run/flannel/subnet.env`',
           notes='via sysroot; redacted'),
    Source("options_env", "flannel/options.env", "/run/flannel/options.env", "cat /run/flannel/options.env",
           (SosName("run/flannel/options.env", "kubernetes", since="3.9", note=_KUBE),
            SosName("var/run/flannel/options.env", "kubernetes", since="3.3", until="3.8", note=_KUBE)),
           "flannel", facts=("flannel_config",),
           collected='`/run/flannel/options.env`',
           notes='via sysroot; redacted'),
    Source("net_conf", "flannel/net-conf.json", "kube-flannel net-conf.json",
           "cat /etc/kube-flannel/net-conf.json", (), "flannel", facts=("flannel_config",),
           sos_gap="net-conf.json lives in the kube-flannel ConfigMap, mounted inside the pod only; no sos plugin "
                   "copies /etc/kube-flannel",
           collected='`/etc/kube-flannel/net-conf.json`, else `/var/lib/rancher/k3s/agent/etc/flannel/net-conf.json`',
           notes='via sysroot; redacted'),
    Source("flannel_unit", "flannel/systemctl-cat", "flanneld systemd unit", "systemctl cat flanneld",
           (SosName("etc/systemd/system/flanneld.service", "systemd"),
            SosName("run/systemd/system/flanneld.service", "systemd", since="3.6"),
            SosName("usr/lib/systemd/system/flanneld.service", "systemd",
                    note="copied as lib/systemd/system (a link to usr/lib on merged-/usr systems)"),
            SosName("lib/systemd/system/flanneld.service", "systemd")),
           "flannel", facts=("flannel_config",),
           sos_gap="sos copies the unit files but never runs `systemctl cat`: drop-ins (flanneld.service.d/*.conf) "
                   "are not joined to the unit",
           collected='`systemctl cat flanneld`',
           notes='see "Unit" below; redacted'),
    Source("flannel_cmdline", "flannel/cmdline", "running flanneld command line",
           "tr '\\0' '\\n' < /proc/PID/cmdline", (), "flannel", facts=("flannel_config",),
           sos_gap="sos keeps no /proc/PID/cmdline; the process plugin's `ps auxwww` shows flanneld's arguments "
                   "joined by spaces, which netsnap does not read",
           collected='`/proc/PID/cmdline` of every process whose `comm` is `flanneld`',
           notes=(
               'per process a line `# pid N`, then one argument per line; `empty` when flanneld is not running;'
               ' redacted'
           )),
    Source("flannel_pod_logs", "flannel/pod-logs", "kube-flannel container logs",
           "cat /var/log/pods/kube-system_kube-flannel*/*/*.log",
           (SosName("var/log/pods/kube-system_kube-flannel-*/kube-flannel/*.log", "container_log", since="3.8",
                    note="the targets of the /var/log/containers links"),
            SosName("var/log/containers/kube-flannel-*_kube-system_kube-flannel-*.log", "container_log",
                    since="3.8")),
           "flannel", facts=("flannel_log",),
           collected='`/var/log/pods/*kube-flannel*/*/*.log`',
           notes=(
               'per file a line `==> /var/log/pods/... <==`, then its last 2000 lines; at most 20 files; via '
               'sysroot; redacted'
           )),
)

BY_ID: dict[str, Source] = {s.id: s for s in SOURCES}
assert all(s.facts for s in SOURCES), "every source names the facts it carries"
BY_PATH: dict[str, Source] = {s.path: s for s in SOURCES}
BY_SOS_PATH: dict[str, Source] = {(p.path if isinstance(p, SosName) else p): s for s in SOURCES for p in s.sos_paths}


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
_TABLES = ("for each table /proc/net/ip_tables_names lists (legacy iptables: the file is empty on an iptables-nft "
           "host, and then no table is listed); when the file is missing: {defaults}; 4.3+: only the tables `nft "
           "list ruleset` shows")
_TABLE_NOTES = {
    "nat": _TABLES.format(defaults="mangle and filter, and nat since 4.6.0 (sos PR #3335)"),
    "mangle": _TABLES.format(defaults="mangle and filter (4.0: nat, mangle, filter)"),
    "raw": _TABLES.format(defaults="never raw"),
}
SOS_ONLY_SOURCES: tuple[Source, ...] = tuple(
    Source(f"iptables_list_{table}", "", f"iptables -t {table} -nvL (list format, sosreports)",
           f"iptables -t {table} -nvL",
           (SosName(f"{_FW_CMD}iptables_-t_{table}_-nvL", _FW, since="4.1", note=_TABLE_NOTES[table]),
            SosName(f"{_NET_CMD}iptables_-t_{table}_-nvL", _NET, until="4.0", note=_TABLE_NOTES[table])),
           "firewall", facts=("firewall",))
    for table in ("nat", "mangle", "raw")
)
SOS_ONLY_BY_ID: dict[str, Source] = {s.id: s for s in SOS_ONLY_SOURCES}

MANIFEST_PATH = "manifest.json"
