"""The hostile corpus: every way an input file can be wrong, generated in a directory (never committed).

`build(root)` writes every case under `root` and returns the `Case`s; big inputs (a million members,
chains or routes, a 100 MB line) are built only when `slow=True` and are sparse or compressed where
the format allows, so the corpus costs a few hundred MB of disk at most. Each case names the
bundles to open and, where it attacks another input, the security-group export, the rules directory
or the baseline. `commands(case, good)` gives every command line the matrix runs on it.

Base bundles are copies of fixtures/incident-a (collector layout), fixtures/reader/sosreport and
fixtures/hostile (HTML payloads); hostile cases mutate copies of them.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import lzma
import os
import shutil
import socket
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NODE1 = REPO / "fixtures" / "incident-a" / "node1"
MASTER = REPO / "fixtures" / "incident-a" / "master"
SOS = REPO / "fixtures" / "reader" / "sosreport" / "sosreport-worker2-2026-11-26-qwerty"
HTML_BUNDLE = REPO / "fixtures" / "hostile"
INCIDENT_A = REPO / "fixtures" / "incident-a"
SG_MASTER = REPO / "fixtures" / "incident-a" / "sg-master.json"

MiB = 1024 * 1024
GiB = 1024 * MiB
ESC = "\x1b[2J\x1b[31m\x1b]0;pwned\x07"
SCRIPT = "<script>document.title='PWNED'</script>"
ATTR = "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"


@dataclass
class Case:
    """One hostile input. `bundles` are opened by every command; `sg`, `rules_dir` and `baseline`
    name the input under attack when it is not a bundle (the bundles are then good ones)."""

    name: str
    bundles: list[str]
    host: str = "node1"
    sg: str | None = None
    rules_dir: str | None = None
    baseline: str | None = None
    slow: bool = False
    user: str | None = None  # run as this user (root reads every file; unreadable needs another user)
    html_payload: bool = False  # check the HTML report in Chromium
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- building blocks


def copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _reproducible(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def tar_dir(src: Path, dst: Path, mode: str = "w:gz", arcname: str | None = None) -> Path:
    """`src` as a tarball, byte-identical on every checkout (no mtimes, owners; gzip header mtime 0), so a
    bit flip at a given offset always hits the same place."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(src, arcname=arcname or src.name, filter=_reproducible)
    data = buf.getvalue()
    if mode == "w:gz":
        data = gzip.compress(data, mtime=0)
    elif mode == "w:xz":
        data = lzma.compress(data)
    elif mode != "w":
        raise ValueError(mode)
    dst.write_bytes(data)
    return dst


def tar_bytes(files: dict[str, bytes], *, end: bool = True) -> bytes:
    """A plain tar of `files` (name -> content); without the end-of-archive blocks if `end` is False."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        head = buf.getvalue()
    return buf.getvalue() if end else head


def node1_tar_members() -> dict[str, bytes]:
    """node1's files as tar members under a top directory."""
    out: dict[str, bytes] = {}
    for path in sorted(NODE1.rglob("*")):
        if path.is_file():
            out[f"node1/{path.relative_to(NODE1).as_posix()}"] = path.read_bytes()
    return out


def raw_header(name: bytes, size: int, kind: bytes = b"0", *, linkname: bytes = b"", extra: bytes = b"") -> bytes:
    """A 512-byte ustar/GNU header built by hand (sizes tarfile would refuse to write)."""
    def octal(value: int, width: int) -> bytes:
        return f"{value:0{width - 1}o}".encode() + b"\0"

    fields = (
        name[:100].ljust(100, b"\0") + octal(0o644, 8) + octal(0, 8) + octal(0, 8) + octal(size, 12)
        + octal(0, 12) + b"        " + kind + linkname[:100].ljust(100, b"\0") + b"ustar  \0"
        + b"root".ljust(32, b"\0") + b"root".ljust(32, b"\0") + octal(0, 8) + octal(0, 8)
    )
    block = (fields + extra).ljust(512, b"\0")[:512]
    chksum = f"{sum(block):06o}\0 ".encode()
    return block[:148] + chksum + block[156:]


def gzip_zeros(size: int, chunk: int = 64 * MiB) -> bytes:
    """A multi-member gzip stream of `size` zero bytes, built from one compressed chunk (fast)."""
    whole = gzip.compress(bytes(chunk), 1)
    out = [whole] * (size // chunk)
    if size % chunk:
        out.append(gzip.compress(bytes(size % chunk), 1))
    return b"".join(out)


def gzip_repeat(block: bytes, count: int) -> bytes:
    """A gzip stream of `block` repeated `count` times (compressed once per 64 MiB)."""
    per = max(1, (64 * MiB) // len(block))
    piece = gzip.compress(block * per, 1)
    out = [piece] * (count // per)
    if count % per:
        out.append(gzip.compress(block * (count % per), 1))
    return b"".join(out)


def sparse_file(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of `size` bytes that takes no disk (a hole after `head`)."""
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def make_deep(root: Path, depth: int, leaf: str, data: bytes) -> Path:
    """`root/d/d/.../d/leaf` `depth` levels deep, created relative to directory fds (deeper than
    PATH_MAX works too)."""
    root.mkdir(parents=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        out = os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, data)
        os.close(out)
    finally:
        os.close(fd)
    return root


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def with_manifest(bundle: Path, manifest: bytes | str) -> Path:
    write(bundle / "manifest.json", manifest)
    return bundle


def collector_with(dst: Path, files: dict[str, bytes | str], *, manifest: bool = False) -> Path:
    """A copy of node1 with `files` replaced; the manifest is dropped (its sizes and hashes would no
    longer match) unless `manifest` is True."""
    copy_bundle(NODE1, dst)
    if not manifest:
        (dst / "manifest.json").unlink()
    for rel, data in files.items():
        write(dst / rel, data)
    return dst


# ---------------------------------------------------------------- generated contents

IPT_HEAD = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"


def iptables_loop() -> str:
    return (IPT_HEAD + ":A - [0:0]\n:B - [0:0]\n:SELF - [0:0]\n:G - [0:0]\n"
            "-A INPUT -j A\n-A INPUT -j SELF\n-A INPUT -g G\n-A FORWARD -j B\n"
            "-A A -p tcp -j B\n-A B -j A\n-A SELF -j SELF\n-A G -g G\n-A G -j A\nCOMMIT\n")


def iptables_chains(n: int) -> str:
    out = [IPT_HEAD]
    out.extend(f":C{i} - [0:0]\n" for i in range(n))
    out.append("-A INPUT -j C0\n-A FORWARD -j C0\n")
    out.extend(f"-A C{i} -j C{i + 1}\n" for i in range(n - 1))
    out.append("COMMIT\n")
    return "".join(out)


def ip_routes(n: int) -> str:
    lines = ["default via 192.168.0.1 dev eth0 proto static metric 100\n"]
    lines.extend(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32 via 192.168.0.1 dev eth0 proto static\n"
                 for i in range(n))
    return "".join(lines)


def native_sg(rules: int, name: str = "sg-master") -> str:
    rows = [f'{{"direction": "ingress", "protocol": "tcp", "ports": "{1000 + i % 60000}", '
            f'"remote": "10.{(i >> 8) & 255}.{i & 255}.0/24"}}' for i in range(rules)]
    head = '{"format": "netsnap-sg/1", "group": ' + json.dumps(name) + ', "rules": [\n'
    return head + ",\n".join(rows) + "\n]}\n"


def neutron_rules(rules: int) -> str:
    rows = [{"id": f"r{i:08d}", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
             "port_range_min": 1000 + i % 60000, "port_range_max": 1000 + i % 60000,
             "remote_ip_prefix": f"10.{(i >> 8) & 255}.{i & 255}.0/24", "security_group_id": "sg-1"}
            for i in range(rules)]
    return json.dumps({"security_group_rules": rows}, indent=1)


def manifest_of(bundle: Path) -> dict[str, object]:
    value = json.loads((bundle / "manifest.json").read_text())
    assert isinstance(value, dict)
    return value


# ---------------------------------------------------------------- tar attacks


def tar_header_bomb(dst: Path, kind: bytes, size: int) -> Path:
    """A good member, then a GNU long-name ('L'/'K') or PAX ('x'/'g') header claiming `size` bytes."""
    good = tar_bytes(node1_tar_members(), end=False)
    dst.write_bytes(gzip.compress(good, 1) + gzip.compress(raw_header(b"././@LongLink", size, kind), 1)
                    + gzip_zeros(size))
    return dst


def tar_gnu_sparse_bomb(dst: Path, blocks: int) -> Path:
    """An old GNU sparse member ('S') whose map continues over `blocks` extension blocks."""
    good = tar_bytes(node1_tar_members(), end=False)
    entry = b"00000001000\0" + b"00000001000\0"
    extra = b"\0" * (386 - 345) + entry * 4 + b"\x01" + b"00000000000\0"  # sparse map, isextended, realsize
    header = raw_header(b"sparse", 0, b"S", extra=extra)
    ext = (entry * 21 + b"\x01").ljust(512, b"\0")
    dst.write_bytes(gzip.compress(good + header, 1) + gzip_repeat(ext, blocks))
    return dst


def tar_pax_sparse_bomb(dst: Path, numbers: int) -> Path:
    """A PAX GNU sparse 1.0 member whose in-data map claims `numbers` entries and holds them."""
    good = tar_bytes(node1_tar_members(), end=False)
    records = b""
    for key, value in (("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", "big"),
                       ("GNU.sparse.realsize", "1000")):
        rec = f" {key}={value}\n".encode()
        n = len(rec) + 2
        while len(str(n).encode() + rec) != n:
            n += 1
        records += str(n).encode() + rec
    pax = raw_header(b"././@PaxHeader", len(records), b"x") + records.ljust(512 * ((len(records) + 511) // 512), b"\0")
    member = raw_header(b"GNUSparseFile.0/big", 512, b"0")
    dst.write_bytes(gzip.compress(good + pax + member + f"{numbers}\n".encode(), 1)
                    + gzip_repeat(b"1\n" * 256, numbers // 256))
    return dst


def tar_many_members(dst: Path, count: int, size: int = 0) -> Path:
    """`count` members (empty, or `size` bytes of text each) written with hand-made headers."""
    body = (b"10.0.0.0/8 dev eth0\n" * (size // 20 + 1))[:size]
    pad = b"\0" * ((512 - size % 512) % 512)
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(dst, "wb") as fh:
        chunk: list[bytes] = []
        for i in range(count):
            chunk.append(raw_header(f"many/f{i:07d}".encode(), size))
            if size:
                chunk.extend((body, pad))
            if len(chunk) > 4096:
                fh.write(comp.compress(b"".join(chunk)))
                chunk = []
        chunk.append(b"\0" * 1024)
        fh.write(comp.compress(b"".join(chunk)) + comp.flush())
    return dst


def tar_members(dst: Path, members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz") -> Path:
    """A tarball of node1's files plus the given members (TarInfo for special ones)."""
    with tarfile.open(dst, mode) as tar:  # type: ignore[call-overload]
        for name, data in node1_tar_members().items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tar.addfile(info, io.BytesIO(m[1]))
    return dst


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 5
    return info


def flip(data: bytes, at: float, span: int = 8) -> bytes:
    pos = int(len(data) * at)
    return data[:pos] + bytes(b ^ 0x55 for b in data[pos:pos + span]) + data[pos + span:]


# ---------------------------------------------------------------- zip attacks


def zip_dir(src: Path, dst: Path, arc_top: str | None = None) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, f"{arc_top or src.name}/{path.relative_to(src).as_posix()}")
    return dst


def zip_entries(dst: Path, entries: list[tuple[str, bytes]], *, symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in node1_tar_members().items():
            zf.writestr(name, data)
        for name, data in entries:
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return dst


def zip_central_flood(dst: Path, count: int) -> Path:
    """A zip whose central directory lists `count` entries (all pointing at one empty local entry)."""
    name = b"x"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
    central = bytearray()
    for i in range(count):
        n = f"f{i:07d}".encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(n), 0, 0, 0, 0,
                               0, 0) + n
    entries = min(count, 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(central), len(local), 0)
    dst.write_bytes(local + bytes(central) + end)
    return dst


def zip_bomb(dst: Path, entries: int, size: int) -> Path:
    """`entries` entries that all point at one deflated run of `size` zero bytes (overlapping files)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(bytes(size)) + comp.flush()
    crc = zlib.crc32(bytes(size))
    name = b"z0"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0) + name
    central = bytearray()
    for i in range(entries):
        n = f"z{i}".encode() if i else name
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size, len(n),
                               0, 0, 0, 0, 0, 0) + n
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(central), len(local) + len(data), 0)
    dst.write_bytes(local + data + bytes(central) + end)
    return dst


# ---------------------------------------------------------------- the cases


def build(root: Path, *, slow: bool = True, fast: bool = True) -> list[Case]:
    """Write every case under `root` (which must not exist yet); return them in order: the fast ones
    (unless `fast` is False) and the slow ones (big inputs; unless `slow` is False)."""
    root.mkdir(parents=True)
    cases: list[Case] = []

    def add(name: str, bundles: list[Path | str], **kw: object) -> None:
        cases.append(Case(name, [str(b) for b in bundles], **kw))  # type: ignore[arg-type]

    def d(name: str) -> Path:
        return root / name

    good = copy_bundle(NODE1, d("good-node1"))
    master = copy_bundle(MASTER, d("good-master"))

    if fast:
        # -- security-group exports: the bundles are good, the export is not
        def sg(name: str, path: Path | str, **kw: object) -> None:
            add(f"sg-{name}", [master, good], host="master", sg=str(path), **kw)

        sg("dev-zero", "/dev/zero")
        sg("dev-urandom", "/dev/urandom")
        sg("dev-null", "/dev/null")
        fifo = d("sg-fifo.json")
        os.mkfifo(fifo)
        sg("fifo", fifo)
        sock = d("sg.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(sock))
        s.close()
        sg("socket", sock)
        sg("proc-kcore", "/proc/kcore")
        sg("proc-status", "/proc/self/status")
        sg("directory", root)
        sg("missing", d("no-such-sg.json"))
        loop = d("sg-loop.json")
        os.symlink(loop.name, loop)
        sg("symlink-loop", loop)
        sg("sparse-2g", sparse_file(d("sg-sparse.json"), 2 * GiB, b"["))
        sg("19mb-native", write(d("sg-19mb.json"), native_sg(230_000)))
        sg("19mb-neutron", write(d("sg-neutron-19mb.json"), neutron_rules(80_000)))
        sg("deep-list", write(d("sg-deep-list.json"), "[" * 200_000 + "]" * 200_000))
        sg("deep-dict", write(d("sg-deep-dict.json"), '{"a":' * 100_000 + "1" + "}" * 100_000))
        sg("yaml-50k-rules", write(d("sg-50k.yaml"),
                                   "format: netsnap-sg/1\nrules:\n" + "  - direction: ingress\n" * 50_000))
        sg("not-json", write(d("sg-garbage.json"), "{this is not json\n" * 1000))
        sg("binary", write(d("sg-binary.json"), bytes(range(256)) * 100))
        sg("utf16", write(d("sg-utf16.json"), SG_MASTER.read_text().encode("utf-16")))
        sg("latin1", write(d("sg-latin1.json"), SG_MASTER.read_text().replace("sg", "s\xe9g").encode("latin-1")))
        sg("wrong-types", write(d("sg-types.json"), '{"SecurityGroups": [{"IpPermissions": 5, "GroupId": []}]}'))
        sg("wrong-types-2", write(d("sg-types2.json"), '{"security_group_rules": [1, null, "x", {"direction": 7}]}'))
        sg("wrong-types-3", write(d("sg-types3.json"), '{"format": "netsnap-sg/1", "rules": {"a": 1}}'))
        sg("html", write(d("sg-html.json"), native_sg(3, name=SCRIPT + ATTR)), html_payload=True)
        sg("esc", write(d("sg-esc.json"), native_sg(3, name=ESC + "\r")))  # escaped \u001b in the JSON
        sg("esc-raw", write(d("sg-esc-raw.json"), native_sg(3).replace("sg-master", ESC)))  # invalid JSON
        unreadable = write(d("sg-unreadable.json"), SG_MASTER.read_bytes())
        unreadable.chmod(0)
        sg("unreadable", unreadable, user="nobody")

        # -- tar header and container attacks
        add("tar-gnu-longname-4g", [tar_header_bomb(d("longname.tgz"), b"L", 4 * GiB)])
        add("tar-gnu-longlink-1g", [tar_header_bomb(d("longlink.tgz"), b"K", GiB)])
        add("tar-pax-2g", [tar_header_bomb(d("pax.tgz"), b"x", 2 * GiB)])
        add("tar-pax-global-1g", [tar_header_bomb(d("paxg.tgz"), b"g", GiB)])
        add("tar-gnu-sparse-map", [tar_gnu_sparse_bomb(d("sparse.tgz"), 1_000_000)])
        add("tar-pax-sparse-1.0", [tar_pax_sparse_bomb(d("paxsparse.tgz"), 50_000_000)])
        add("tar-traversal", [tar_members(d("traversal.tgz"), [
            ("../../../../tmp/netsnap-escaped", b"x"), ("/etc/cron.d/netsnap", b"x"),
            ("node1/a/../../../escaped", b"x"), ("C:\\windows\\x", b"x"), ("node1/identity/../../../x", b"x")])])
        add("tar-links", [tar_members(d("links.tgz"), [
            special("node1/identity/hostname2", tarfile.SYMTYPE, "/etc/shadow"),
            special("node1/routes/route-n2", tarfile.LNKTYPE, "/etc/shadow"),
            special("node1/links/loop", tarfile.SYMTYPE, "loop"),
            special("node1/dev-zero", tarfile.CHRTYPE), special("node1/fifo", tarfile.FIFOTYPE)])])
        sym_source = tar_members(d("symlink-source.tgz.tmp"), [])
        with tarfile.open(sym_source) as t:
            members = {m.name: t.extractfile(m).read() for m in t if m.isfile()}  # type: ignore[union-attr]
        sym_source.unlink()
        with tarfile.open(d("symlink-as-source.tgz"), "w:gz") as tar:
            for name, data in members.items():
                if name == "node1/identity/hostname":
                    tar.addfile(special(name, tarfile.SYMTYPE, "/etc/shadow"))
                    continue
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            tar.addfile(special("node1/routes/ip-rule2", tarfile.LNKTYPE, "/etc/shadow"))
        add("tar-symlink-as-source", [d("symlink-as-source.tgz")])
        whole = tar_dir(NODE1, d("node1.tgz.tmp")).read_bytes()
        xz = tar_dir(NODE1, d("node1.txz.tmp"), "w:xz").read_bytes()
        for p in (d("node1.tgz.tmp"), d("node1.txz.tmp")):
            p.unlink()
        add("gz-truncated-half", [write(d("half.tgz"), whole[: len(whole) // 2])])
        add("gz-truncated-header", [write(d("hdr.tgz"), whole[:20])])
        add("gz-bitflip", [write(d("flip.tgz"), flip(whole, 0.5))])
        add("gz-bitflip-early", [write(d("flip-early.tgz"), flip(whole, 0.05))])
        add("xz-truncated", [write(d("half.txz"), xz[: len(xz) // 2])])
        add("xz-bitflip", [write(d("flip.txz"), flip(xz, 0.5))])
        add("gz-not-tar", [write(d("text.tgz"), gzip.compress(b"hello\n" * 1000))])
        add("gz-zeros-1g", [write(d("zeros.tgz"), gzip_zeros(GiB))])
        add("xz-of-random", [write(d("random.txz"), lzma.compress(os.urandom(100_000)))])
        add("bz2-garbage", [write(d("garbage.tbz2"), b"BZh9" + os.urandom(5000))])
        add("zstd", [write(d("x.tar.zst"), b"\x28\xb5\x2f\xfd" + os.urandom(100))])
        add("empty-file", [write(d("empty.tgz"), b"")])
        add("tar-of-tar-of-tar", [_nested_tars(root)])
        add("tar-several-bundles", [_tar_of_bundles(d("cluster.tgz"))], host="master")
        add("tar-html-member-names", [tar_members(d("html-names.tgz"), [
            (f"node1/{SCRIPT}.txt", b"default via 10.0.0.1 dev eth0\n"), (f"node1/{ATTR}", b"x\n")])],
            html_payload=True)
        add("tar-esc-member-names", [tar_members(d("esc-names.tgz"), [(f"node1/{ESC}\nforged line", b"x\n")])])

        # -- zip
        add("zip-as-tgz", [zip_dir(NODE1, d("zip-named.tgz"))])
        add("zip-bundle", [zip_dir(NODE1, d("node1.zip"))])
        add("zip-of-tarballs", [_zip_of_tarballs(d("hosts.zip"))], host="master")
        add("zip-of-folders", [_zip_of_folders(d("folders.zip"))], host="master")
        add("zip-traversal", [zip_entries(d("zip-traversal.zip"), [
            ("../../../../tmp/netsnap-zip-escaped", b"x"), ("/etc/netsnap-abs", b"x"), ("..\\..\\win", b"x")])])
        add("zip-symlinks", [zip_entries(d("zip-links.zip"), [], symlinks={"node1/identity/hostname2": "/etc/shadow",
                                                                            "node1/loop": "node1/loop"})])
        add("zip-bomb-overlap", [zip_bomb(d("overlap.zip"), 2000, 32 * MiB)])
        add("zip-bomb-single", [zip_bomb(d("single.zip"), 1, 1 * GiB)])
        zbytes = zip_dir(NODE1, d("z.zip.tmp")).read_bytes()
        d("z.zip.tmp").unlink()
        add("zip-truncated", [write(d("zip-cut.zip"), zbytes[: len(zbytes) // 2])])
        add("zip-bitflip", [write(d("zip-flip.zip"), flip(zbytes, 0.3))])
        add("zip-encrypted-flag", [write(d("zip-enc.zip"), _zip_flag_encrypted(zbytes))])
        add("zip-bad-method", [write(d("zip-method.zip"), _zip_method(zbytes, 99))])

        # -- directories
        deep = make_deep(d("deep-1500"), 1500, "route.txt", b"default via 10.0.0.1 dev eth0\n")
        write(deep / "hostname", "node1\n")
        write(deep / "ip-route.txt", (NODE1 / "routes" / "ip-route").read_bytes())
        add("dir-deep-1500", [deep])
        add("dir-deep-path-max", [make_deep(d("deep-pathmax"), 2040, "route.txt", b"default via 10.0.0.1 dev eth0\n")])
        add("dir-deeper-than-path-max", [make_deep(d("deep-3000"), 3000, "x", b"x\n")])
        links = collector_with(d("dir-links"), {})
        (links / "identity" / "hostname").unlink()
        os.symlink("/etc/shadow", links / "identity" / "hostname")
        os.symlink("/etc/shadow", links / "shadow.txt")
        os.symlink(".", links / "self")
        os.symlink("loop-a", links / "loop-b")
        os.symlink("loop-b", links / "loop-a")
        os.symlink("/", links / "root")
        with contextlib.suppress(OSError):  # another file system: no hard link possible
            os.link("/etc/shadow", links / "hardlinked-shadow.txt")
        add("dir-symlinks", [links])
        loose_links = d("loose-links")
        loose_links.mkdir()
        os.symlink("/etc/shadow", loose_links / "route.txt")
        write(loose_links / "rules.txt", (NODE1 / "routes" / "ip-rule").read_bytes())
        os.symlink("/proc/self/environ", loose_links / "env.txt")
        add("loose-symlinks", [loose_links])
        specials = collector_with(d("dir-specials"), {})
        os.mkfifo(specials / "routes" / "ip-route.fifo")
        os.mknod(specials / "kernel" / "zero", stat.S_IFCHR | 0o644, os.makedev(1, 5))
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(specials / "flannel" / "sock"))
        s.close()
        (specials / "routes" / "ip-route").unlink()
        os.mkfifo(specials / "routes" / "ip-route")
        add("dir-fifo-as-source", [specials])
        unread = collector_with(d("dir-unreadable"), {})
        (unread / "routes" / "ip-route").chmod(0)
        (unread / "kernel").chmod(0)
        add("dir-unreadable", [unread], user="nobody")
        unreadable_tgz = tar_dir(NODE1, d("unreadable.tgz"))
        unreadable_tgz.chmod(0)
        add("tar-unreadable", [unreadable_tgz], user="nobody")
        add("dir-empty", [_mkdir(d("empty-dir"))])
        add("dir-nothing-recognised", [write(d("nothing/notes.txt"), "Customer says the network is slow.\n").parent])
        add("dir-of-etc", ["/etc"])
        add("dir-proc", ["/proc"])
        add("dir-sys", ["/sys/class/net"])
        add("dir-dev", ["/dev"])
        add("bundle-dev-zero", ["/dev/zero"])
        add("bundle-dev-null", ["/dev/null"])
        add("bundle-fifo", [fifo])
        add("bundle-socket", [sock])
        add("bundle-missing", [d("no-such-bundle.tgz")])
        add("bundle-symlink-loop", [loop])
        add("bundle-path-too-long", [str(d("x" * 300))])
        add("bundle-path-esc", [str(d(f"no-such-{ESC}\nbundle"))])
        add("incident-a-folder", [copy_bundle(INCIDENT_A, d("incident-a"))], host="master")
        add("same-bundle-twice", [good, good])
        add("same-bundle-two-spellings", [good, f"{good}/", f"{root}/./good-node1"])
        two = collector_with(d("node1-b"), {"routes/ip-route": "default via 192.168.0.9 dev eth0\n"})
        add("two-bundles-one-host", [good, two])
        add("two-tarballs-one-host", [tar_dir(NODE1, d("node1-a.tgz")),
                                      tar_dir(two, d("node1-b.tgz"), arcname="node1")])

        # -- text encodings and control characters
        route = (NODE1 / "routes" / "ip-route").read_text()
        add("utf16-files", [collector_with(d("utf16"), {"routes/ip-route": route.encode("utf-16"),
                                                         "identity/hostname": "node1\n".encode("utf-16-le")})])
        add("latin1-files", [collector_with(d("latin1"), {"identity/hostname": "n\xf6de1\n".encode("latin-1"),
                                                           "routes/ip-route": route.replace("eth0", "\xe9th0")
                                                           .encode("latin-1")})])
        add("nul-bytes", [collector_with(d("nul"), {"routes/ip-route": route.replace("eth0", "eth\x000"),
                                                     "identity/hostname": "node\x001\n"})])
        addr = (NODE1 / "links" / "ip-d-address").read_text()
        add("esc-names", [collector_with(d("esc"), {
            "identity/hostname": f"node1{ESC}\n",
            "links/ip-d-address": addr.replace("eth0", f"eth{ESC}0"),
            "routes/ip-route": route.replace("eth0", f"eth{ESC}0"),
            "firewall/iptables-save": IPT_HEAD + f'-A INPUT -m comment --comment "{ESC}" -j DROP\nCOMMIT\n'})],
            host=f"node1{ESC}")
        add("esc-in-loose-names", [write(d("esc-loose") / f"route{ESC}.txt", route).parent])
        add("html-bundle", [copy_bundle(HTML_BUNDLE, d("hostile-html"))], host="master", html_payload=True)
        add("html-dir-name", [copy_bundle(NODE1, d(f"node1{ATTR.replace('/', '')}"))], html_payload=True)
        add("html-sos-manifest", [_sos_with(d("sos-html"), {"sos_reports/manifest.json": json.dumps(
            {"version": SCRIPT, "start_time": ATTR, "components": {"report": {"plugins": {SCRIPT: {"commands": [
                {"exec": ATTR, "filepath": SCRIPT, "return_code": 0}]}}}}})})], host="worker2", html_payload=True)

        # -- manifests
        m = manifest_of(NODE1)
        add("manifest-not-json", [with_manifest(copy_bundle(NODE1, d("mf-garbage")), "{not json")])
        add("manifest-binary", [with_manifest(copy_bundle(NODE1, d("mf-binary")), bytes(range(256)) * 64)])
        add("manifest-array", [with_manifest(copy_bundle(NODE1, d("mf-array")), "[1, 2, 3]")])
        add("manifest-null", [with_manifest(copy_bundle(NODE1, d("mf-null")), "null")])
        add("manifest-deep", [with_manifest(copy_bundle(NODE1, d("mf-deep")),
                                            '{"format": "netsnap-bundle/1", "x": ' + "[" * 100_000
                                            + "]" * 100_000 + "}")])
        add("manifest-deep-sources", [with_manifest(copy_bundle(NODE1, d("mf-deep-src")), json.dumps(
            {**m, "sources": [{"id": "x", "path": "a"}]})[:-2] + ', "extra": ' + '{"a":' * 50_000 + "1"
            + "}" * 50_000 + "}]}")])
        wrong = {"format": "netsnap-bundle/1", "hostname": ["node1"], "collected_at": 5, "collector_version": {"a": 1},
                 "redactions": "many", "sources": [5, None, "x", {"id": 7}, {"id": "ip_route", "path": ["x"],
                                                                               "status": {"ok": 1}, "exit_code": "0",
                                                                               "sha256": 12, "truncated": "yes"},
                                                   {"id": "route_n", "path": "/etc/shadow", "status": "ok"},
                                                   {"id": "ip_rule", "path": "../../../etc/shadow", "status": "ok"}]}
        add("manifest-wrong-types", [with_manifest(copy_bundle(NODE1, d("mf-types")), json.dumps(wrong))])
        add("manifest-sources-not-list", [with_manifest(copy_bundle(NODE1, d("mf-notlist")), json.dumps(
            {**m, "sources": {"id": "x"}}))])
        add("manifest-hostname-esc", [with_manifest(copy_bundle(NODE1, d("mf-esc")), json.dumps(
            {**m, "hostname": f"node1{ESC}\n{SCRIPT}"}))], host=f"node1{ESC}")
        big_entry = {"id": "dmesg", "path": "kernel/dmesg", "command": "x" * 10_000, "status": "ok"}
        add("manifest-repeated-entry", [with_manifest(copy_bundle(NODE1, d("mf-repeat")), json.dumps(
            {**m, "sources": [big_entry] * 5000}))])
        add("manifest-huge", [with_manifest(copy_bundle(NODE1, d("mf-huge")), json.dumps(
            {**m, "padding": "x" * (40 * MiB)}))])
        add("manifest-many-unknown-ids", [with_manifest(copy_bundle(NODE1, d("mf-ids")), json.dumps(
            {**m, "sources": [{"id": f"src{i}", "path": f"p{i}"} for i in range(200_000)]}))])
        add("sos-manifest-deep", [_sos_with(d("sos-deep"), {"sos_reports/manifest.json":
                                                             '{"components": ' + "[" * 100_000 + "]" * 100_000 + "}"})],
            host="worker2")
        add("sos-manifest-wrong-types", [_sos_with(d("sos-types"), {"sos_reports/manifest.json": json.dumps(
            {"version": 4, "start_time": [], "components": {"report": {"plugins": {"networking": {
                "commands": [{"exec": 5}, {"exec": "ip route", "filepath": 7, "return_code": "0", "run_time": "x"}],
                "timeout_hit": "yes"}, "x": 5}}}})})], host="worker2")
        add("sos-link-loop", [_sos_links(d("sos-links"))], host="worker2")

        # -- firewall and routing structure
        add("iptables-jump-loops", [collector_with(d("ipt-loop"), {"firewall/iptables-save": iptables_loop()})])
        add("iptables-10k-chain-depth",
            [collector_with(d("ipt-deep"), {"firewall/iptables-save": iptables_chains(10_000)})])
        add("iptables-garbage", [collector_with(d("ipt-garbage"), {
            "firewall/iptables-save": IPT_HEAD + "-A\n-A INPUT -j\n-A INPUT -m\n"
            "-A INPUT -p tcp --dport 99999999 -j\n:X\n*nat\nCOMMIT\nCOMMIT\n-A NOCHAIN -j X\n"})])
        add("routes-garbage", [collector_with(d("rt-garbage"), {"routes/ip-route": "default via\nvia via via\n"
                                                                "10.0.0.0/99 dev\n999.1.1.1 dev eth0\n"
                                                                + "x " * 5000})])

        # -- other inputs under attack: baseline and rules directories
        add("baseline-longname", [good], baseline=str(d("longname.tgz")))
        add("baseline-deep", [good], baseline=str(d("deep-1500")))
        add("baseline-dev-zero", [good], baseline="/dev/zero")
        add("baseline-manifest-deep", [good], baseline=str(d("mf-deep")))
        add("rules-dir-fifo", [good], rules_dir=str(_rules_dir(d("rules-fifo"), "fifo")))
        add("rules-dir-dev-zero", [good], rules_dir=str(_rules_dir(d("rules-zero"), "zero")))
        add("rules-dir-huge", [good], rules_dir=str(_rules_dir(d("rules-huge"), "huge")))
        add("rules-dir-dir-named-py", [good], rules_dir=str(_rules_dir(d("rules-dirpy"), "dir")))
        add("rules-dir-is-file", [good], rules_dir=str(SG_MASTER))
        add("rules-dir-missing", [good], rules_dir=str(d("no-rules")))
        add("rules-dir-binary", [good], rules_dir=str(_rules_dir(d("rules-binary"), "binary")))
    if slow:
        add("tar-1m-members", [tar_many_members(d("million.tgz"), 1_000_000)], slow=True)
        add("tar-many-small-members", [tar_many_members(d("many-small.tgz"), 19_000, 27_000)], slow=True)
        add("zip-1m-entries", [zip_central_flood(d("million.zip"), 1_000_000)], slow=True)
        line = collector_with(d("line-100mb"), {})
        with open(line / "kernel" / "dmesg", "wb") as fh:
            fh.write(b"[    0.000000] " + b"A" * (100 * MiB))
        add("line-100mb", [line], slow=True)
        line60 = collector_with(d("line-60mb"), {})
        with open(line60 / "routes" / "ip-route", "wb") as fh:
            fh.write(b"default via 10.0.0.1 dev " + b"e" * (60 * MiB) + b"\n")
        add("line-60mb", [line60], slow=True)
        add("iptables-1m-chains", [collector_with(d("ipt-1m"), {"firewall/iptables-save": iptables_chains(1_000_000)})],
            slow=True)
        add("routes-1m", [collector_with(d("rt-1m"), {"routes/ip-route": ip_routes(1_000_000)})], slow=True)
        add("baseline-1m-routes", [good], baseline=str(d("rt-1m")), slow=True)
    for case in cases:
        if case.user:
            _open_to(case, root)
    root.chmod(0o755)
    return cases


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _open_to(case: Case, root: Path) -> None:
    """Let another user traverse the corpus (each case keeps its own unreadable part)."""
    for path in [root, *root.parents]:
        if path == Path("/"):
            break
        mode = path.stat().st_mode
        path.chmod(mode | 0o011 if path != root else mode | 0o055)


def _nested_tars(root: Path) -> Path:
    inner = tar_dir(NODE1, root / "nested-inner.tgz")
    middle = root / "nested-middle.tgz"
    with tarfile.open(middle, "w:gz") as tar:
        tar.add(inner, arcname="inner.tgz")
    outer = root / "nested-outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(middle, "middle.tgz")
    inner.unlink()
    middle.unlink()
    return outer


def _tar_of_bundles(dst: Path) -> Path:
    with tarfile.open(dst, "w:gz") as tar:
        tar.add(MASTER, arcname="cluster/master")
        tar.add(NODE1, arcname="cluster/node1")
    return dst


def _zip_of_tarballs(dst: Path) -> Path:
    with zipfile.ZipFile(dst, "w") as zf:
        for src in (MASTER, NODE1):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                tar.add(src, arcname=src.name)
            zf.writestr(f"ticket-123/{src.name}.tar.gz", buf.getvalue())
    return dst


def _zip_of_folders(dst: Path) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for src in (MASTER, NODE1):
            for path in sorted(src.rglob("*")):
                if path.is_file():
                    zf.write(path, f"upload/{src.name}/{path.relative_to(src).as_posix()}")
    return dst


def _zip_flag_encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' flag on every entry (local and central headers)."""
    out = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = out.find(sig)
        while pos >= 0:
            out[pos + off] |= 1
            pos = out.find(sig, pos + 4)
    return bytes(out)


def _zip_method(data: bytes, method: int) -> bytes:
    out = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        pos = out.find(sig)
        while pos >= 0:
            out[pos + off:pos + off + 2] = struct.pack("<H", method)
            pos = out.find(sig, pos + 4)
    return bytes(out)


def _sos_with(dst: Path, files: dict[str, str]) -> Path:
    top = copy_bundle(SOS, dst / SOS.name)
    for rel, data in files.items():
        write(top / rel, data)
    return dst


def _sos_links(dst: Path) -> Path:
    top = copy_bundle(SOS, dst / SOS.name)
    net = top / "sos_commands" / "networking"
    for name in ("ip_route_show_table_all", "ip_-d_address", "ip_-o_addr"):
        target = net / name
        if target.exists() or target.is_symlink():
            target.unlink()
        os.symlink(name, target)
    os.symlink("loop-2", net / "loop-1")
    os.symlink("loop-1", net / "loop-2")
    os.symlink("../../../../../../etc/shadow", net / "escape")
    return dst


RULE_OK = '''from netsnap.engine.rule import Rule\n'''


def _rules_dir(dst: Path, kind: str) -> Path:
    dst.mkdir()
    target = dst / "ns999_hostile.py"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "zero":
        os.symlink("/dev/zero", target)
    elif kind == "huge":
        sparse_file(target, 3 * GiB, b"# a huge rule file\n")
    elif kind == "dir":
        target.mkdir()
    elif kind == "binary":
        target.write_bytes(b"\0\xff\xfe" * 1000)
    return dst


# ---------------------------------------------------------------- command lines


Command = tuple[str, list[str]]


def commands(case: Case, good: str, out: str) -> list[Command]:
    """(label, argv) for every command the matrix runs on `case`; `out` is the output directory."""
    b = case.bundles
    html = f"{out}/report.html"
    trace = ["trace", *b, "--from", case.host, "--to", "172.18.0.1"]
    if case.sg is not None:
        sg = ["--security-group", f"{case.host}={case.sg}"]
        return [("analyze-text", ["analyze", *b, *sg]), ("analyze-json", ["analyze", *b, *sg, "-f", "json"]),
                ("analyze-html", ["analyze", *b, *sg, "-o", html]), ("trace", [*trace, *sg])]
    if case.baseline is not None:
        base = ["--baseline", case.baseline]
        return [("analyze-text", ["analyze", *b, *base]), ("analyze-json", ["analyze", *b, *base, "-f", "json"]),
                ("analyze-html", ["analyze", *b, *base, "-o", html]), ("diff", ["diff", case.baseline, *b])]
    if case.rules_dir is not None:
        rd = ["--rules-dir", case.rules_dir]
        return [("analyze-text", ["analyze", *b, *rd]), ("analyze-json", ["analyze", *b, *rd, "-f", "json"]),
                ("analyze-html", ["analyze", *b, *rd, "-o", html]), ("rules-list", ["rules", "list", *rd])]
    return [("inventory", ["inventory", *b]),
            ("parse", ["parse", *b, "--unparsed"]), ("parse-json", ["parse", *b, "--format", "json"]),
            ("analyze-text", ["analyze", *b]), ("analyze-json", ["analyze", *b, "-f", "json"]),
            ("analyze-html", ["analyze", *b, "-o", html]), ("trace", trace),
            ("diff", ["diff", good, b[0]])]


Builder = Callable[[Path], list[Case]]
