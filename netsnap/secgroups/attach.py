"""`--security-group HOST=FILE`: attach an export to a host of a snapshot."""

from __future__ import annotations

from netsnap.bundle.limits import Limits
from netsnap.model.host import Snapshot
from netsnap.secgroups.formats import SecGroupError, load_file
from netsnap.secgroups.model import SecurityGroups


def parse_attach_spec(spec: str) -> tuple[str, str]:
    """Split `HOST=FILE`; raises SecGroupError on a malformed spec."""
    host, sep, path = spec.partition("=")
    if not sep or not host.strip() or not path.strip():
        raise SecGroupError(f"{spec}: expected HOST=FILE (HOST is a host name or one of its IPs)")
    return host.strip(), path.strip()


def attach(snapshot: Snapshot, spec: str, groups: SecurityGroups | None = None,
           limits: Limits | None = None) -> SecurityGroups:
    """Load FILE (under `limits`) and attach it to HOST (a host name or one of its addresses); returns
    `groups` (a new SecurityGroups if None). Errors are SecGroupError with a one-line message."""
    key, path = parse_attach_spec(spec)
    host = snapshot.host(key)
    if host is None:
        names = ", ".join(h.name for h in snapshot.hosts) or "none"
        raise SecGroupError(f"{path}: host {key!r} is not in the snapshot (hosts: {names})")
    sg_set = load_file(path, limits)
    out = groups if groups is not None else SecurityGroups()
    out.attached.setdefault(host.name, []).append(sg_set)
    return out
