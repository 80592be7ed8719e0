"""The cause vocabulary, once: each cause's name (stable, machine-readable), what it breaks in plain
words, its base impact (higher breaks more traffic; orders causes on a shared path) and the topology
row where the report marks it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Row = Literal["firewall", "sg", "vtep", "pods", "routes", "kernel"]


@dataclass(frozen=True)
class Cause:
    name: str
    breaks: str  # what a support engineer tells the customer, e.g. "the host firewall rejects the overlay"
    impact: int
    row: Row


CAUSES: dict[str, Cause] = {c.name: c for c in (
    Cause("iptables-reject", "the host firewall rejects or drops traffic the cluster needs", 75, "firewall"),
    Cause("forward-policy-drop", "the FORWARD policy drops forwarded pod traffic", 65, "firewall"),
    Cause("split-firewall-backend", "firewall rules live in two backends and the other one decides", 60,
          "firewall"),
    Cause("vxlan-port-blocked", "the security group does not let the overlay's UDP port through", 80, "sg"),
    Cause("flannel-wrong-iface", "flannel uses an interface the peers cannot reach", 85, "vtep"),
    Cause("vxlan-port-mismatch", "the nodes use different VXLAN ports", 85, "vtep"),
    Cause("mtu-mismatch", "packets are larger than the path can carry", 40, "vtep"),
    Cause("flannel-subnet-mismatch", "the pod bridge's address disagrees with flannel's lease", 50, "pods"),
    Cause("cidr-overlap", "the pod network overlaps another network", 55, "routes"),
    Cause("missing-peer-route", "a peer's pod network has no working overlay route", 70, "routes"),
    Cause("flannel-error", "flanneld reports an error", 45, "vtep"),
    Cause("flannel-config-ignored", "flanneld does not run with the configuration on disk", 50, "vtep"),
    Cause("duplicate-default-route", "two default routes split traffic between two exits", 60, "routes"),
    Cause("duplicate-subnet-route", "one subnet is routed out of two interfaces", 60, "routes"),
    Cause("ip-forward-disabled", "the host does not forward packets", 70, "routes"),
    Cause("rp-filter-strict", "strict reverse-path filtering drops asymmetric traffic", 55, "routes"),
    Cause("br-netfilter-missing", "bridged pod traffic bypasses iptables", 30, "firewall"),
    Cause("vxlan-checksum-offload", "the NIC corrupts VXLAN checksums", 40, "vtep"),
    Cause("conntrack-full", "the conntrack table is full and new connections are dropped", 50, "kernel"),
)}
