"""flannel log triage: the catalog classifies by the statement that printed a line; NS307 reports causes."""

from __future__ import annotations

import re

import pytest

from netsnap.bundle.loose import read_loose
from netsnap.bundle.members import Members
from netsnap.engine.findings import Finding
from netsnap.engine.run import run_rules
from netsnap.flannel import log_catalog, log_messages
from netsnap.load import build_host
from netsnap.model import Snapshot

_VALUE = {"d": "7", "s": "x1", "v": "x1", "q": '"x1"', "w": "x1", "t": "true", "+v": "{a:1}", "#v": "&X{}",
          "#+v": "{}"}


@pytest.mark.parametrize("entry", list(log_catalog.ENTRIES.values()), ids=list(log_catalog.ENTRIES))
def test_every_statement_is_recognised_as_itself(entry: log_catalog.Entry) -> None:
    """Each statement's format, filled in, is classified as that statement (not as a neighbour's)."""
    message = re.sub(r"%([-+#0 ]*)\d*(?:\.\d+)?([svqdwtxXfe])",
                     lambda m: _VALUE.get(m.group(1) + m.group(2), _VALUE.get(m.group(2), "x1")), entry.format)
    found = log_catalog.lookup(message)
    assert found is not None and found[0].format == entry.format
    assert entry.meaning and entry.kind


def test_every_success_and_inner_name_exists() -> None:
    assert log_catalog.ENTRIES.keys() >= log_messages.SUCCESS
    assert {c for c, _ in log_messages.INNER} <= {
        "tls", "rbac", "pod-cidr", "config-missing", "lease-space", "incompatible-addresses", "mac-changed",
        "no-interface", "br-netfilter", "permission", "device", "iptables", "unreachable"}


@pytest.mark.parametrize(("message", "cls"), [
    # the kube subnet manager failing to reach the API server is not etcd
    ("Failed to create SubnetManager: error retrieving pod spec for 'kube-flannel/kube-flannel-ds-x': Get "
     "\"https://10.96.0.1:443/api/v1/namespaces/kube-flannel/pods/kube-flannel-ds-x\": dial tcp 10.96.0.1:443: "
     "i/o timeout", "kube-api-unavailable"),
    ("Error registering network: failed to acquire lease: timeout contacting kube-api, failed to patch node "
     "\"n1\". Error: context deadline exceeded", "kube-api-unavailable"),
    ("Couldn't fetch network config: client: etcd cluster is unavailable or misconfigured; error #0: dial tcp "
     "127.0.0.1:2379: getsockopt: connection refused", "etcd-unavailable"),
    # a VXLAN device that vanished is not a lease problem
    ("Error registering network: Link not found", "device"),
    ("Error registering network: failed to acquire lease: node \"n1\" pod cidr not assigned", "pod-cidr"),
    ("Failed to create SubnetManager: error retrieving pod spec for 'kube-system/kube-flannel-ds-x': pods "
     "\"kube-flannel-ds-x\" is forbidden: User \"system:serviceaccount:kube-system:flannel\" cannot get "
     "resource \"pods\"", "rbac"),
])
def test_error_chains_name_their_cause(message: str, cls: str) -> None:
    assert log_catalog.classify(message, "E").fields["error_class"] == cls


def _ns307(name: str, text: str) -> list[Finding]:
    host = build_host(read_loose(Members(data={name: text.encode()}), name, "node1"))
    return [f for f in run_rules(Snapshot(hosts=[host]), only=["NS307"]).findings if f.rule == "NS307"]


RETRY = "\n".join(
    f"Dec 07 10:00:0{i} n1 flanneld[8]: {line}" for i, line in enumerate([
        "I1207 10:00:00.000001 00008 etcd.go:129] Found lease (10.1.15.0/24) for current IP (10.0.2.15), reusing",
        "E1207 10:00:01.000001 00008 etcd.go:91] Failed to acquire subnet: client: etcd cluster is unavailable or "
        "misconfigured",
        "I1207 10:00:02.000001 00008 etcd.go:129] Found lease (10.1.15.0/24) for current IP (10.0.2.15), reusing",
        "E1207 10:00:03.000001 00008 etcd.go:91] Failed to acquire subnet: client: etcd cluster is unavailable or "
        "misconfigured",
        "I1207 10:00:04.000001 00008 etcd.go:129] Found lease (10.1.15.0/24) for current IP (10.0.2.15), reusing",
    ])) + "\n"


def test_a_retry_loop_is_not_recovered() -> None:
    [f] = _ns307("journal.txt", RETRY)
    assert f.key == "n1-etcd-unreachable" and "recovered" not in f.title and f.severity.value == "error"


def test_recovered_needs_a_success_after_the_last_failure() -> None:
    up = RETRY + ("Dec 07 10:00:09 n1 flanneld[8]: I1207 10:00:09.000001 00008 etcd.go:111] Subnet lease acquired: "
                  "10.1.15.0/24\n")
    [f] = _ns307("journal.txt", up)
    assert "(recovered)" in f.title


def test_systemd_unit_failures_are_reported_with_the_journal_command() -> None:
    text = ("Dec 07 10:00:00 n1 systemd[1]: flanneld.service: Main process exited, code=killed, status=9/KILL\n"
            "Dec 07 10:00:00 n1 systemd[1]: Failed to start Flanneld overlay address etcd agent.\n")
    [f] = _ns307("journal.txt", text)
    assert f.key == "n1-unit-failed" and any(line.startswith("journalctl -u flanneld") for line in f.remediation)


def test_pod_logs_are_told_to_be_read_with_kubectl() -> None:
    text = ("kube-flannel E1207 10:00:01.000001       1 main.go:332] Error registering network: Link not found\n"
            "kube-flannel I1207 10:00:02.000001       1 main.go:1] Stopping shutdownHandler...\n")
    [f] = _ns307("flannel.log", text)
    assert f.key.endswith("-device")
    assert any("kubectl -n kube-flannel logs" in line for line in f.remediation)
    assert not any(line.startswith("journalctl") for line in f.remediation)
