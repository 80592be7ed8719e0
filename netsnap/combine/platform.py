"""Whether a host runs where a cloud security group can sit in front of its NICs.

Cloud evidence in a bundle: a NIC whose MAC carries a cloud vendor's prefix (OpenStack and the clouds
built on it — Huawei Cloud among them — assign `fa:16:3e`; Google Compute Engine `42:01`; Azure
`00:0d:3a`/`00:22:48`; Alibaba ECS `00:16:3e`), or a route to the instance metadata address
169.254.169.254 (cloud-init installs one on OpenStack-style clouds). Without any, the host is taken
for bare metal, VMware or libvirt: no security group, stated as an assumption wherever it matters.
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


@dataclass(frozen=True)
class Platform:
    """`cloud` is the evidence that a cloud security group may exist (None: none found)."""

    cloud: str | None

    @property
    def assumption(self) -> str:
        return "" if self.cloud else "no cloud evidence (MAC prefix, metadata route): no security group assumed"


def platform_of(host: Host) -> Platform:
    """The cloud evidence of `host`, if any (see the module docstring)."""
    for name in sorted(host.interfaces):
        mac = (host.interfaces[name].mac or "").lower()
        for prefix, what in CLOUD_MAC_PREFIXES.items():
            if mac.startswith(prefix):
                return Platform(f"{name} has MAC {mac} ({what})")
    for r in host.routes:
        if r.dst.version == 4 and r.dst.prefixlen == 32 and r.dst.network_address == METADATA:
            return Platform(f"a route to the metadata service {METADATA} ({r.raw.strip()})")
    return Platform(None)
