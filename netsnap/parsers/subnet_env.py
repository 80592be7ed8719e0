"""`/run/flannel/subnet.env`: FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ (+ IPv6 keys).

One `SubnetEnv` item. Every key goes into `values` with its line in `lines`; the four IPv4 keys are
also converted. A value that does not convert leaves its field None, its line unparsed and a note.
flannel <= 0.5.2 wrote no FLANNEL_NETWORK: `network` stays None, with a note.
"""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv4Network

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.flannel import SubnetEnv
from netsnap.parsers.flannel_env import read_assignments
from netsnap.parsers.records import could_not_parse, never_raises

SOURCE = "subnet_env"
_BOOLS = {"true": True, "false": False}


@never_raises(Parsed[SubnetEnv], SOURCE)
def parse(text: str, file: str) -> Parsed[SubnetEnv]:
    """Parse subnet.env into one SubnetEnv (none if the file holds no assignment); never raises."""
    result: Parsed[SubnetEnv] = Parsed(source=SOURCE, file=file)
    try:
        assignments, unparsed, expected = read_assignments("subnet_env", text)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a parser never raises on bad input
        return could_not_parse(result, text, exc)
    result.unparsed = list(unparsed)
    if not assignments:
        result.expected = expected or None
        return result
    values = {a.name: a.value for a in assignments}
    lines = {a.name: a.first + 1 for a in assignments}
    env = SubnetEnv(values=values, lines=lines, src=Provenance(file=file, line=assignments[0].first + 1))
    raws = {a.name: a.raw for a in assignments}

    def bad(key: str, why: str) -> None:
        result.notes.append(f"{file}:{lines[key]}: {key}={values[key]!r}: {why}")
        result.unparsed.append(UnparsedLine(line=lines[key], text=raws[key]))

    if "FLANNEL_NETWORK" in values:
        try:
            env.network = IPv4Network(values["FLANNEL_NETWORK"], strict=False)
        except ValueError as exc:
            bad("FLANNEL_NETWORK", str(exc))
    elif "FLANNEL_SUBNET" in values:
        result.notes.append(f"{file}: no FLANNEL_NETWORK (flannel <= 0.5.2 wrote only FLANNEL_SUBNET, FLANNEL_MTU and "
                            "FLANNEL_IPMASQ): the overlay network is not in this file")
    if "FLANNEL_SUBNET" in values:
        try:
            env.subnet = IPv4Interface(values["FLANNEL_SUBNET"])
        except ValueError as exc:
            bad("FLANNEL_SUBNET", str(exc))
    if "FLANNEL_MTU" in values:
        try:
            env.mtu = int(values["FLANNEL_MTU"])
        except ValueError:
            bad("FLANNEL_MTU", "not an integer")
    if "FLANNEL_IPMASQ" in values:
        flag = _BOOLS.get(values["FLANNEL_IPMASQ"].lower())
        if flag is None:
            bad("FLANNEL_IPMASQ", "not true or false")
        env.ipmasq = flag
    result.unparsed.sort(key=lambda u: u.line)
    result.items.append(env)
    result.expected = 1
    if expected != len(assignments):
        result.notes.append(f"{file}: {expected} assignment lines but {len(assignments)} assignments parsed")
    return result
