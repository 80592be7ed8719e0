"""Directory bundles: symlinks are not followed out of the directory; special files are skipped; limits apply."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from netsnap.bundle import directory
from netsnap.bundle.model import BundleError, Limits
from netsnap.bundle.reader import open_bundle
from tests.bundle.tarbuild import write_dir

ROUTE = "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "shadow").write_text("root:$6$hash\n")
    root = write_dir(tmp_path / "node", {"route.txt": ROUTE})
    (root / "link-file").symlink_to(secret / "shadow")
    (root / "link-dir").symlink_to(secret)
    bundle = open_bundle(root)
    assert "skipped link-file: symlink" in bundle.problems
    assert "skipped link-dir: symlink" in bundle.problems
    assert "root:$6$hash" not in "".join(bundle.members.values())
    assert set(bundle.members) == {"route.txt"}


def test_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    root = write_dir(tmp_path / "node", {"route.txt": ROUTE})
    os.mkfifo(root / "pipe")
    assert "skipped pipe: fifo" in open_bundle(root).problems


def test_limits_apply_to_directories(tmp_path: Path) -> None:
    root = write_dir(tmp_path / "node", {"a-route.txt": ROUTE, "big.log": "z" * 3000,
                                         **{f"n{i}.txt": "x\n" for i in range(5)}})
    bundle = open_bundle(root, Limits(file_size=2048, members=5))  # sorted: a-route big.log n0 n1 n2 | n3
    assert ("skipped big.log: 2.9 KiB, over the file-size limit of 2 KiB (raise it with netsnap --limit "
            "file-size=SIZE)") in bundle.problems
    assert ("stopped reading at n3.txt: over the members limit of 5 (raise it with netsnap --limit members=N)"
            in bundle.problems)


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match=r"empty: no readable files$"):
        open_bundle(tmp_path / "empty")


def _deny(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """Make listing the directory `denied` fail with EACCES (root can read everything, so simulate it)."""
    real = directory._listing

    def listing(fd: int) -> object:
        if os.readlink(f"/proc/self/fd/{fd}") == str(denied):
            raise PermissionError(13, "Permission denied")
        return real(fd)

    monkeypatch.setattr(directory, "_listing", listing)


def test_unreadable_bundle_directory_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_dir(tmp_path / "node", {"route.txt": ROUTE})
    _deny(monkeypatch, root)
    with pytest.raises(BundleError) as err:
        open_bundle(root)
    assert str(err.value) == f"{root}: cannot read directory: Permission denied"


def test_unreadable_subdirectory_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_dir(tmp_path / "node", {"route.txt": ROUTE, "sub/x.txt": "x\n"})
    _deny(monkeypatch, root / "sub")
    bundle = open_bundle(root)
    assert "skipped sub: cannot read directory (Permission denied)" in bundle.problems
    assert set(bundle.members) == {"route.txt"}


def test_two_bundles_of_one_host_name_are_both_kept_and_told_apart(tmp_path: Path) -> None:
    """Different bundles claiming one host name: both analysed, named after their bundle everywhere."""
    import shutil

    from netsnap.load import load_snapshot
    from tests.rules.bundles import write_manifest

    healthy = Path(__file__).resolve().parents[2] / "fixtures" / "healthy" / "node1"
    for case in ("case-1", "case-2"):
        shutil.copytree(healthy, tmp_path / case / "node1")
    (tmp_path / "case-2" / "node1" / "identity" / "uptime").write_text(" 10:00:00 up 1 day,  1 user\n")
    write_manifest(tmp_path / "case-2" / "node1")
    snap = load_snapshot([str(tmp_path / "case-1" / "node1"), str(tmp_path / "case-2" / "node1"),
                          str(tmp_path / "case-1" / "node1")])
    assert [h.name for h in snap.hosts] == ["node1 (case-1/node1)", "node1 (case-2/node1)"]
    assert snap.hosts[0].bundle.problems[-1] == (f"the same bundle was given again as {tmp_path / 'case-1' / 'node1'}; "
                                                 "analysed once")
