"""The names `iptables -L`, `route` and `netstat -r` print without `-n`, and those netsnap turns back into numbers.

Without `-n`, these tools resolve addresses through the host's resolver (`/etc/hosts`, DNS), networks
through `/etc/networks`, ports through `/etc/services` (iptables ICMP types through its own table).
Only what is the same on every host is turned back into numbers: `anywhere`, the ICMP type names (iptables'
own table), the network names every distribution's `/etc/networks` ships (`loopback`, `link-local`)
and the IANA service names below, which both Debian's netbase and Red Hat's setup package map to the
same port. A host name (`node2.example`, `_gateway`, `localhost`) or any other name is never guessed:
the caller keeps it as an unknown match.
"""

from __future__ import annotations

# IANA service names -> port (the same in netbase's and setup's /etc/services; tcp and udp alike)
SERVICES: dict[str, int] = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67, "bootpc": 68,
    "tftp": 69, "http": 80, "www": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111, "ntp": 123,
    "netbios-ns": 137, "netbios-dgm": 138, "netbios-ssn": 139, "imap2": 143, "imap": 143, "snmp": 161,
    "snmp-trap": 162, "bgp": 179, "ldap": 389, "https": 443, "microsoft-ds": 445, "isakmp": 500, "syslog": 514,
    "submission": 587, "ldaps": 636, "rsync": 873, "imaps": 993, "pop3s": 995, "openvpn": 1194,
    "ms-sql-s": 1433, "nfs": 2049, "etcd-client": 2379, "etcd-server": 2380, "mysql": 3306,
    "ms-wbt-server": 3389, "vxlan": 4789, "ipsec-nat-t": 4500, "postgresql": 5432, "sun-sr-https": 6443,
    "http-alt": 8080, "webcache": 8080, "pcsync-https": 8443, "otv": 8472,
}

# `iptables -p icmp -h`: name -> (type, code or None for every code)
ICMP_TYPES: dict[str, tuple[int, int | None]] = {
    "echo-reply": (0, None), "pong": (0, None), "destination-unreachable": (3, None),
    "network-unreachable": (3, 0), "host-unreachable": (3, 1), "protocol-unreachable": (3, 2),
    "port-unreachable": (3, 3), "fragmentation-needed": (3, 4), "source-route-failed": (3, 5),
    "network-unknown": (3, 6), "host-unknown": (3, 7), "network-prohibited": (3, 9), "host-prohibited": (3, 10),
    "TOS-network-unreachable": (3, 11), "TOS-host-unreachable": (3, 12), "communication-prohibited": (3, 13),
    "host-precedence-violation": (3, 14), "precedence-cutoff": (3, 15), "source-quench": (4, None),
    "redirect": (5, None), "network-redirect": (5, 0), "host-redirect": (5, 1), "TOS-network-redirect": (5, 2),
    "TOS-host-redirect": (5, 3), "echo-request": (8, None), "ping": (8, None), "router-advertisement": (9, None),
    "router-solicitation": (10, None), "time-exceeded": (11, None), "ttl-exceeded": (11, None),
    "ttl-zero-during-transit": (11, 0), "ttl-zero-during-reassembly": (11, 1), "parameter-problem": (12, None),
    "ip-header-bad": (12, 0), "required-option-missing": (12, 1), "timestamp-request": (13, None),
    "timestamp-reply": (14, None), "address-mask-request": (17, None), "address-mask-reply": (18, None),
}

# /etc/networks as netbase and setup ship it
NETWORKS: dict[str, str] = {"loopback": "127.0.0.0", "link-local": "169.254.0.0"}
# what `route` prints for 0.0.0.0 as a destination (and `*` for no gateway, in old net-tools)
DEFAULT = "default"


def port(text: str) -> str | None:
    """`ssh` -> "22", `8472` -> "8472", `ssh:https` -> "22:443"; None when a name is not certain."""
    out = []
    for part in text.split(":"):
        if part.isdigit():
            out.append(part)
        elif part in SERVICES:
            out.append(str(SERVICES[part]))
        else:
            return None
    return ":".join(out)


def ports(text: str) -> str | None:
    """A multiport list `ssh,https,10250` -> "22,443,10250"; None when one name is not certain."""
    out = []
    for part in text.split(","):
        value = port(part)
        if value is None:
            return None
        out.append(value)
    return ",".join(out)


def network(text: str) -> str | None:
    """`loopback/8` -> "127.0.0.0/8"; None unless the name is one every host ships with a length."""
    name, sep, length = text.partition("/")
    if not sep or not length.isdigit() or name not in NETWORKS:
        return None
    return f"{NETWORKS[name]}/{length}"


def icmp_type(name: str) -> str | None:
    """`echo-request` -> "8", `port-unreachable` -> "3/3" (the save format's `--icmp-type` value)."""
    found = ICMP_TYPES.get(name)
    if found is None:
        return None
    kind, code = found
    return str(kind) if code is None else f"{kind}/{code}"
