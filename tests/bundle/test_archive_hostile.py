"""Hostile and broken archives are refused (one-line BundleError naming the file) or their bad members
skipped with a message; nothing is ever written to disk while reading."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

from netsnap.bundle.model import Bundle, BundleError, Limits
from netsnap.bundle.reader import open_bundle
from tests.bundle.tarbuild import add_dir, add_file, add_special, write_tar

GOOD = "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"


def hostile(tmp_path: Path, build: object, mode: str = "w:gz") -> Path:
    path = tmp_path / "hostile.tgz"
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        add_file(tar, "route.txt", GOOD)
        build(tar)  # type: ignore[operator]
    return path


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda t: add_file(t, "../x", "evil"), "skipped ../x: path traversal"),
        (lambda t: add_file(t, "a/../../etc/cron.d/x", "evil"), "skipped a/../../etc/cron.d/x: path traversal"),
        (lambda t: add_file(t, "/etc/passwd", "root:x:0:0"), "skipped /etc/passwd: absolute path"),
        (lambda t: add_special(t, "link", tarfile.SYMTYPE, "/etc/shadow"), "skipped link: symlink"),
        (lambda t: add_special(t, "hard", tarfile.LNKTYPE, "route.txt"), "skipped hard: hard link"),
        (lambda t: add_special(t, "dev/null", tarfile.CHRTYPE), "skipped dev/null: device file"),
        (lambda t: add_special(t, "dev/sda", tarfile.BLKTYPE), "skipped dev/sda: device file"),
        (lambda t: add_special(t, "pipe", tarfile.FIFOTYPE), "skipped pipe: fifo"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink", "chardev", "blockdev", "fifo"],
)
def test_bad_members_are_skipped_and_reported(tmp_path: Path, build: object, message: str) -> None:
    bundle = open_bundle(hostile(tmp_path, build))
    assert message in bundle.problems
    assert set(bundle.members) == {"route.txt"}
    assert bundle.files["route_n"].file == "route.txt"


def test_a_skipped_symlink_is_never_used_as_a_source(tmp_path: Path) -> None:
    # a symlink named like a source must not pull in /etc/passwd or anything else
    path = hostile(tmp_path, lambda t: add_special(t, "identity/hostname", tarfile.SYMTYPE, "/etc/passwd"))
    bundle = open_bundle(path)
    assert "hostname" not in bundle.files
    assert "skipped identity/hostname: symlink" in bundle.problems


def test_oversized_member_is_skipped(tmp_path: Path) -> None:
    path = hostile(tmp_path, lambda t: add_file(t, "big.log", "x" * 5000))
    bundle = open_bundle(path, Limits(file_size=4096))
    assert ("skipped big.log: 4.9 KiB, over the file-size limit of 4 KiB (raise it with netsnap --limit "
            "file-size=SIZE)") in bundle.problems
    assert "big.log" not in bundle.members
    assert "route.txt" in bundle.members


def test_too_many_members_stops_reading(tmp_path: Path) -> None:
    def many(tar: tarfile.TarFile) -> None:
        for i in range(50):
            add_file(tar, f"f{i:02}.txt", "x\n")

    bundle = open_bundle(hostile(tmp_path, many), Limits(members=10))
    assert ("stopped reading at f09.txt: over the members limit of 10 (raise it with netsnap --limit members=N)"
            in bundle.problems)  # route.txt is the first
    assert len(bundle.members) == 10


def test_total_size_limit_stops_reading(tmp_path: Path) -> None:
    def big(tar: tarfile.TarFile) -> None:
        for i in range(5):
            add_file(tar, f"part{i}.txt", "y" * 1000)

    bundle = open_bundle(hostile(tmp_path, big), Limits(bundle_size=3000))
    assert ("stopped reading at part2.txt: over the bundle-size limit of 2.9 KiB (raise it with netsnap --limit "
            "bundle-size=SIZE)") in bundle.problems
    assert "part1.txt" in bundle.members and "part2.txt" not in bundle.members


def test_huge_declared_member_stops_before_decompressing_it(tmp_path: Path) -> None:
    """A member declaring 2 GiB stops the read at its header: the archive holds only 1 MiB of it, so
    trying to read or skip it would have run into the end of the stream and reported a truncation."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        add_file(tar, "route.txt", GOOD)
        head = buf.getvalue()  # before close(): no end-of-archive blocks yet
    info = tarfile.TarInfo("zeros")
    info.size = 2 << 30
    path = tmp_path / "bomb.tgz"
    path.write_bytes(gzip.compress(head + info.tobuf() + bytes(1 << 20)))
    bundle = open_bundle(path)
    assert ("stopped reading at zeros: over the archive-size limit of 2 GiB (raise it with netsnap --limit "
            "archive-size=SIZE)") in bundle.problems
    assert not [p for p in bundle.problems if "truncated" in p]
    assert "route.txt" in bundle.members


def test_truncated_gzip_after_some_members_keeps_them(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "full.tgz", {"route.txt": GOOD, "big.bin": os.urandom(200_000)})
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(path.read_bytes()[:60_000])
    bundle = open_bundle(cut)
    assert "route.txt" in bundle.members
    [problem] = [p for p in bundle.problems if "truncated or corrupt" in p]
    assert problem.startswith(f"{cut}: archive is truncated or corrupt after 2 members")
    assert problem.endswith("kept what was read")


def test_truncated_gzip_before_any_member_is_an_error(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "full.tgz", {"big.bin": os.urandom(200_000)})
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(BundleError) as err:
        open_bundle(cut)
    assert str(err.value).startswith(f"{cut}: corrupt or truncated archive")
    assert "\n" not in str(err.value)


def test_corrupt_gzip_header(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 600)
    with pytest.raises(BundleError, match=r"bad\.tar\.gz: corrupt or truncated archive"):
        open_bundle(bad)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"Kernel IP routing table\n" * 40, "not an archive netsnap reads (tar, tar.gz, tar.xz, tar.bz2 or zip)"),
        (gzip.compress(b"just some text\n" * 100), "not a tar archive inside the compressed stream"),
    ],
    ids=["empty", "text", "gzip-not-tar"],
)
def test_files_that_are_not_archives(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "node1.tar.gz"
    path.write_bytes(content)
    with pytest.raises(BundleError) as err:
        open_bundle(path)
    assert str(err.value).startswith(f"{path}: {message}")
    assert "\n" not in str(err.value)


def test_a_zip_is_read_like_a_tarball(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("node1/route.txt", GOOD)
        zf.writestr("node1/../escape.txt", "x")
    bundle = open_bundle(path)
    assert bundle.files["route_n"].file == "route.txt"
    assert "skipped node1/../escape.txt: path traversal" in bundle.problems


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"nope\.tgz: no such file or directory"):
        open_bundle(tmp_path / "nope.tgz")


def test_archive_of_only_hostile_members_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "evil.tgz"
    with tarfile.open(path, "w:gz") as tar:
        add_file(tar, "../../root/.ssh/authorized_keys", "ssh-rsa AAAA")
        add_special(tar, "x", tarfile.SYMTYPE, "/")
    with pytest.raises(BundleError) as err:
        open_bundle(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: no readable files (skipped ../../root/.ssh/authorized_keys: path traversal")


def test_duplicate_member_keeps_the_first(tmp_path: Path) -> None:
    def dup(tar: tarfile.TarFile) -> None:
        add_file(tar, "./route.txt", "replacement\n")

    bundle = open_bundle(hostile(tmp_path, dup))
    assert "skipped route.txt: duplicate member (kept the first)" in bundle.problems
    assert bundle.members["route.txt"] == GOOD


def test_undecodable_bytes_are_replaced_and_counted(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "b.tgz", {"route.txt": GOOD.encode() + b"\xff\xfe bad \xc3\n"})
    bundle = open_bundle(path)
    sf = bundle.files["route_n"]
    assert sf.replaced_bytes == 3
    assert sf.text.endswith("\ufffd\ufffd bad \ufffd\n")
    assert "route.txt: 3 undecodable bytes or control characters replaced" in bundle.problems


def test_directories_in_archives_are_ignored(tmp_path: Path) -> None:
    bundle = open_bundle(hostile(tmp_path, lambda t: add_dir(t, "empty-dir")))
    assert not [p for p in bundle.problems if "empty-dir" in p]


def test_reading_writes_nothing_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every kind of archive leaves the bundle's folder and the temp dir untouched."""
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    paths = [
        hostile(bundles, lambda t: add_file(t, "../escape.txt", "x")),
        write_tar(bundles / "n.tar.xz", {"top/route.txt": GOOD, "top/etc/passwd": "x"}, "w:xz"),
        write_tar(bundles / "n.tar", {"route.txt": GOOD}, "w"),
    ]
    before = sorted(p.name for p in bundles.iterdir())
    cwd_before = sorted(os.listdir(tmp_path))
    opened: list[Bundle] = [open_bundle(p) for p in paths]
    assert all(b.members for b in opened)
    assert sorted(p.name for p in bundles.iterdir()) == before
    assert list(scratch.iterdir()) == []
    assert sorted(os.listdir(tmp_path)) == cwd_before
    assert not (tmp_path / "escape.txt").exists()


def test_member_limit_counts_every_kind_of_member(tmp_path: Path) -> None:
    """A flood of directories and symlinks is bounded too, not only regular files."""

    def flood(tar: tarfile.TarFile) -> None:
        for i in range(30):
            add_dir(tar, f"d{i:02}")
            add_special(tar, f"l{i:02}", tarfile.SYMTYPE, "/")

    bundle = open_bundle(hostile(tmp_path, flood), Limits(members=20))
    assert ("stopped reading at l09: over the members limit of 20 (raise it with netsnap --limit members=N)"
            in bundle.problems)  # route.txt, then pairs d/l
    assert len([p for p in bundle.problems if p.endswith(": symlink")]) == 9


def test_member_names_cannot_forge_lines_or_escape_sequences(tmp_path: Path) -> None:
    def nasty(tar: tarfile.TarFile) -> None:
        add_file(tar, "../x\nskipped nothing: all good\x1b[2J", "evil")
        add_special(tar, "l\rnk", tarfile.SYMTYPE, "/etc/\nshadow")

    bundle = open_bundle(hostile(tmp_path, nasty))
    assert "skipped ../x\\x0askipped nothing: all good\\x1b[2J: path traversal" in bundle.problems
    assert "skipped l\\x0dnk: symlink" in bundle.problems
    assert all("\n" not in p and "\r" not in p and "\x1b" not in p for p in bundle.problems)


def test_undecodable_member_names_are_replaced(tmp_path: Path) -> None:
    root = tmp_path / "node"
    root.mkdir()
    (root / "route.txt").write_text(GOOD)
    Path(os.fsdecode(root.as_posix().encode() + b"/caf\xe9.txt")).write_text("hello\n")
    bundle = open_bundle(root)
    assert "unrecognised file caf\ufffd.txt" in bundle.problems
    assert "caf\ufffd.txt" in bundle.members
