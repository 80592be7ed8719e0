"""Whether a host runs where a cloud security group can sit in front of its NICs.

Cloud evidence in a bundle: a NIC whose MAC carries a cloud vendor's prefix (OpenStack and the clouds
built on it — Huawei Cloud among them — assign `fa:16:3e`; Google Compute Engine `42:01`; Azure
`00:0d:3a`/`00:22:48`; Alibaba ECS `00:16:3e`), a route to the instance metadata address
169.254.169.254 (cloud-init installs one on OpenStack-style clouds), or the machine's DMI strings
naming a cloud (the values cloud-init's `ds-identify` and CoreOS Afterburn look for:
https://github.com/canonical/cloud-init/blob/main/tools/ds-identify,
https://github.com/coreos/afterburn). Without any, the host is taken for bare metal, VMware or
libvirt: no security group, stated as an assumption wherever it matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from netsnap.model import Host

CLOUD_MAC_PREFIXES: dict[str, str] = {
    "fa:16:3e": "OpenStack (Neutron) MAC prefix",
    "42:01:": "Google Compute Engine MAC prefix",
    "00:0d:3a": "Azure MAC prefix",
    "00:22:48": "Azure MAC prefix",
    "00:16:3e": "Alibaba ECS / Xen MAC prefix",
}
METADATA = IPv4Address("169.254.169.254")
#: what was looked for, in the assumption stated when nothing was found
NO_CLOUD = "no cloud evidence (cloud MAC prefix, metadata route, DMI)"
#: (DMI attribute, value prefix, cloud): a cloud instance's firmware strings
CLOUD_DMI: tuple[tuple[str, str, str], ...] = (
    ("product_name", "OpenStack Nova", "OpenStack"),
    ("product_name", "OpenStack Compute", "OpenStack"),
    ("chassis_asset_tag", "OpenStack Nova", "OpenStack"),
    ("chassis_asset_tag", "OpenStack Compute", "OpenStack"),
    ("chassis_asset_tag", "HUAWEICLOUD", "Huawei Cloud"),
    ("chassis_asset_tag", "OpenTelekomCloud", "Open Telekom Cloud"),
    ("chassis_asset_tag", "SAP CCloud VM", "SAP Converged Cloud"),
    ("sys_vendor", "Amazon EC2", "AWS"),
    ("product_name", "Google Compute Engine", "Google Compute Engine"),
    ("sys_vendor", "Alibaba Cloud", "Alibaba Cloud"),
    ("product_name", "Alibaba Cloud ECS", "Alibaba Cloud"),
    ("chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77", "Azure"),
)


@dataclass(frozen=True)
class Platform:
    """`cloud` is the evidence that a cloud security group may exist (None: none found)."""

    cloud: str | None



def platform_of(host: Host) -> Platform:
    """The cloud evidence of `host`, if any (see the module docstring)."""
    for name in sorted(host.interfaces):
        mac = (host.interfaces[name].mac or "").lower()
        for prefix, what in CLOUD_MAC_PREFIXES.items():
            if mac.startswith(prefix):
                return Platform(f"{name} has MAC {mac} ({what})")
    for attr, prefix, cloud in CLOUD_DMI:
        value = host.identity.dmi.get(attr, "")
        if value.lower().startswith(prefix.lower()):
            return Platform(f"DMI {attr} {value!r} ({cloud})")
    for r in host.routes:
        if r.dst.version == 4 and r.dst.prefixlen == 32 and r.dst.network_address == METADATA:
            return Platform(f"a route to the metadata service {METADATA} ({r.raw.strip()})")
    return Platform(None)
