"""Collector bundles: tarball (any compression, any name) and extracted directory, manifest states."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsnap.bundle.model import Bundle
from netsnap.bundle.reader import open_bundle
from netsnap.model.host import SourceState
from tests.bundle.tarbuild import collector_files, write_dir, write_tar

TOP = "netsnap-node1-20261126T100000Z"


@pytest.fixture(params=["tgz", "txz", "tar-named-tgz", "dir", "dir-without-top"])
def bundle(request: pytest.FixtureRequest, tmp_path: Path) -> Bundle:
    files = collector_files(TOP)
    kind: str = request.param
    if kind == "tgz":
        return open_bundle(write_tar(tmp_path / f"{TOP}.tar.gz", files, "w:gz"))
    if kind == "txz":
        return open_bundle(write_tar(tmp_path / f"{TOP}.tar.xz", files, "w:xz"))
    if kind == "tar-named-tgz":  # detected by content, not by extension
        return open_bundle(write_tar(tmp_path / "bundle.tgz", files, "w"))
    if kind == "dir":
        write_dir(tmp_path / "extracted", files)
        return open_bundle(tmp_path / "extracted")
    write_dir(tmp_path / "flat", collector_files(""))
    return open_bundle(tmp_path / "flat")


def test_identity_from_manifest(bundle: Bundle) -> None:
    assert bundle.kind == "collector"
    assert bundle.host == "node1"
    assert bundle.collector_version == "0.1.0"
    assert bundle.collected_at == "2026-11-26T10:00:00Z"
    assert bundle.redactions == 2
    assert bundle.manifest["format"] == "netsnap-bundle/1"
    assert bundle.sha256 and len(bundle.sha256) == 64


def test_usable_sources_go_to_files(bundle: Bundle) -> None:
    assert set(bundle.files) == {"hostname", "route_n", "flannel_journal"}
    route = bundle.files["route_n"]
    assert route.file == "routes/route-n"  # the same path for tarball and directory
    assert route.state is SourceState.OK
    assert route.command == "route -n"
    assert route.exit_code == 0 and route.duration_ms == 3
    assert route.text.startswith("Kernel IP routing table\n")
    assert route.size == len(route.text)
    assert route.line_map is None
    journal = bundle.files["flannel_journal"]
    assert journal.state is SourceState.TRUNCATED
    assert "2 secrets redacted by the collector" in journal.notes


@pytest.mark.parametrize(
    ("source", "state"),
    [
        ("iptables_save", SourceState.COMMAND_MISSING),
        ("dmesg", SourceState.TIMED_OUT),
        ("ip_rule", SourceState.FAILED),
        ("ipset", SourceState.EMPTY),
        ("net_conf", SourceState.NOT_COLLECTED),
    ],
)
def test_unusable_sources_go_to_missing_with_their_state(bundle: Bundle, source: str, state: SourceState) -> None:
    assert bundle.missing[source].state is state
    assert source not in bundle.files


def test_timed_out_source_keeps_its_partial_text(bundle: Bundle) -> None:
    dmesg = bundle.missing["dmesg"]
    assert dmesg.text == "[  1.000000] Linux version 5.14\n"
    assert dmesg.exit_code == 124


def test_sources_in_neither_dict_were_not_collected(bundle: Bundle) -> None:
    assert "ip_addr" not in bundle.files and "ip_addr" not in bundle.missing


def test_a_clean_bundle_has_no_problems(bundle: Bundle) -> None:
    assert bundle.problems == []


def test_tarball_and_directory_read_the_same(tmp_path: Path) -> None:
    files = collector_files(TOP)
    tgz = open_bundle(write_tar(tmp_path / "b.tgz", files))
    directory = open_bundle(write_dir(tmp_path / "d", files))
    assert tgz.members == directory.members
    assert {k: v.text for k, v in tgz.files.items()} == {k: v.text for k, v in directory.files.items()}
    assert tgz.sha256 != directory.sha256  # archive hash vs tree hash


def test_archive_sha256_is_the_file_hash(tmp_path: Path) -> None:
    import hashlib

    path = write_tar(tmp_path / "b.tgz", collector_files(TOP))
    assert open_bundle(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_directory_hash_is_stable_and_content_sensitive(tmp_path: Path) -> None:
    first = open_bundle(write_dir(tmp_path / "a", collector_files(TOP))).sha256
    again = open_bundle(tmp_path / "a").sha256
    (tmp_path / "a" / TOP / "routes" / "route-n").write_text("changed\n")
    assert first == again
    assert open_bundle(tmp_path / "a").sha256 != first


def _edit_manifest(files: dict[str, bytes | str], edit: object) -> dict[str, bytes | str]:
    key = f"{TOP}/manifest.json"
    manifest = json.loads(files[key])
    edit(manifest)  # type: ignore[operator]
    files[key] = json.dumps(manifest)
    return files


def test_changed_file_is_reported_against_the_manifest_hash(tmp_path: Path) -> None:
    files = collector_files(TOP)
    files[f"{TOP}/routes/route-n"] = "tampered\n"
    bundle = open_bundle(write_tar(tmp_path / "b.tgz", files))
    assert "routes/route-n: sha256 differs from manifest.json (file changed after collection)" in bundle.problems


def test_listed_file_that_is_absent_is_unreadable(tmp_path: Path) -> None:
    files = collector_files(TOP)
    del files[f"{TOP}/routes/route-n"]
    bundle = open_bundle(write_tar(tmp_path / "b.tgz", files))
    assert bundle.missing["route_n"].state is SourceState.UNREADABLE
    assert "manifest.json lists 'routes/route-n' for route_n but the file is missing" in bundle.problems


def test_unlisted_registry_file_is_used_and_noted(tmp_path: Path) -> None:
    files = collector_files(TOP)
    files[f"{TOP}/links/ip-d-address"] = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n"
    bundle = open_bundle(write_tar(tmp_path / "b.tgz", files))
    assert bundle.files["ip_addr"].notes == ["not listed in manifest.json"]


def test_unknown_status_and_unknown_id_are_reported(tmp_path: Path) -> None:
    def edit(m: dict[str, list[dict[str, object]]]) -> None:
        m["sources"][1]["status"] = "exploded"
        m["sources"].append({"id": "future_thing", "path": "x/y", "status": "absent"})

    bundle = open_bundle(write_tar(tmp_path / "b.tgz", _edit_manifest(collector_files(TOP), edit)))
    assert "manifest.json: route_n: unknown status 'exploded'" in bundle.problems
    assert "manifest.json: unknown source id 'future_thing'" in bundle.problems
    assert bundle.missing["route_n"].state is SourceState.FAILED


def test_manifest_path_outside_the_bundle_is_not_followed(tmp_path: Path) -> None:
    def edit(m: dict[str, list[dict[str, object]]]) -> None:
        m["sources"][1]["path"] = "../../etc/passwd"

    bundle = open_bundle(write_tar(tmp_path / "b.tgz", _edit_manifest(collector_files(TOP), edit)))
    assert bundle.missing["route_n"].state is SourceState.UNREADABLE
    assert bundle.missing["route_n"].text == ""


def test_broken_manifest_falls_back_to_registry_paths(tmp_path: Path) -> None:
    files = collector_files(TOP)
    files[f"{TOP}/manifest.json"] = "{not json"
    bundle = open_bundle(write_tar(tmp_path / "b.tgz", files))
    assert bundle.kind == "collector"
    assert bundle.host == "node1"  # from identity/hostname
    assert bundle.files["route_n"].state is SourceState.OK
    assert bundle.missing["ipset"].state is SourceState.EMPTY
    assert any(p.startswith("manifest.json: not valid JSON") for p in bundle.problems)


def test_host_from_top_directory_when_nothing_names_it(tmp_path: Path) -> None:
    files = {f"netsnap-worker-7-20261126T100000Z/{k}": v for k, v in collector_files("").items()
             if k not in ("manifest.json", "identity/hostname")}
    bundle = open_bundle(write_tar(tmp_path / "b.tgz", files))
    assert bundle.host == "worker-7"


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda m: m.update(sources={"a": 1}), "manifest.json: 'sources' is not a list"),
        (lambda m: m["sources"].append("route_n"), "manifest.json: sources[8] has no id"),
        (lambda m: m["sources"].append({"id": 5}), "manifest.json: sources[8] has no id"),
        (lambda m: m["sources"][1].update(status=3), "manifest.json: route_n: unknown status '3'"),
        (lambda m: m["sources"][1].update(path=["x"], exit_code="0", sha256=7), None),
        (lambda m: m.update(redactions="many", collected_at=5, hostname=["x"]), None),
    ],
)
def test_odd_manifest_shapes_are_tolerated(tmp_path: Path, edit: object, problem: str | None) -> None:
    bundle = open_bundle(write_tar(tmp_path / "b.tgz", _edit_manifest(collector_files(TOP), edit)))
    assert bundle.kind == "collector"
    if problem:
        assert problem in bundle.problems
    assert "route_n" in bundle.files or "route_n" in bundle.missing
