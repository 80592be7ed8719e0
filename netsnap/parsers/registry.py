"""Which parser module reads which source. Each module has `parse(text: str, file: str) -> Parsed`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from netsnap.model.base import Parsed

PARSER_MODULES: dict[str, str] = {
    "hostname": "identity",
    "uname": "identity",
    "os_release": "identity",
    "date": "identity",
    "uptime": "identity",
    "route_n": "route_n",
    "proc_net_route": "proc_net_route",
    "ip_route": "ip_route",
    "ip_rule": "ip_rule",
    "ip_addr": "ip_addr",
    "ip_link": "ip_addr",
    "ip_link_stats": "ip_link_stats",
    "ip_neigh": "ip_neigh",
    "bridge_fdb": "bridge_fdb",
    "iptables_save": "iptables_save",
    "ip6tables_save": "iptables_save",
    "iptables_legacy_save": "iptables_save",
    "iptables_nft_save": "iptables_save",
    "iptables_list": "iptables_list",
    "iptables_list_nat": "iptables_list",  # sosreport-only: the other tables' list files
    "iptables_list_mangle": "iptables_list",
    "iptables_list_raw": "iptables_list",
    "ipset": "ipset",
    "nft_json": "nft_json",
    "nft_text": "nft_text",
    "firewalld_state": "firewalld_cmd",
    "firewalld_default_zone": "firewalld_cmd",
    "firewalld_active_zones": "firewalld_cmd",
    "firewalld_log_denied": "firewalld_cmd",
    "firewalld_zones": "firewalld_cmd",
    "firewalld_conf": "conf_file",
    "ufw_status": "ufw_status",
    "ufw_default": "conf_file",
    "sysctl": "sysctl",
    "lsmod": "lsmod",
    "dmesg": "dmesg",
    "ethtool": "ethtool",
    "vxlan_udp_port": "vxlan_udp_port",
    "dmi_sys_vendor": "dmi",
    "dmi_product_name": "dmi",
    "dmi_chassis_asset_tag": "dmi",
    "modprobe_vxlan": "modprobe",
    "flannel_journal": "flannel_journal",
    "flannel_pod_logs": "flannel_journal",
    "flannel_env_default": "flannel_env",
    "flannel_env_sysconfig": "flannel_env",
    "options_env": "flannel_env",
    "subnet_env": "subnet_env",
    "net_conf": "net_conf",
    "flannel_unit": "systemd_unit",
    "flannel_cmdline": "flannel_cmdline",
}

ParseFn = Callable[[str, str], Parsed[Any]]


def parser_for(source: str) -> ParseFn:
    """The `parse` function for a source id (ImportError if its module is not written)."""
    module = importlib.import_module(f"netsnap.parsers.{PARSER_MODULES[source]}")
    fn: ParseFn = module.parse
    return fn
