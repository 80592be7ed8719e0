"""List flanneld's log statements and error texts across its releases, from a flannel-io/flannel git checkout.

`python3 bench/flannel_log_statements.py /path/to/flannel.git [--errors]` prints one line per format
string: level (I/W/E/F, Vn for verbosity n; `err` for fmt.Errorf/errors.New texts with --errors), the
first and last release tag (vX.Y.Z) whose non-vendored, non-test Go source holds it, the files, and the
format. This is how netsnap/flannel/log_messages.py was read; run it against a newer flannel to see
what a new release added (then add those statements to the catalog by hand, with their meaning).
Not a test and not part of the product: it needs the flannel source, which netsnap never ships.
"""

from __future__ import annotations

import re
import subprocess
import sys

CALL = re.compile(r'\b(?:log|klog|glog)\.(?:V\((\d)\)\.)?(Info|Infof|Infoln|Warning|Warningf|Warningln|Error|Errorf|'
                  r'Errorln|Fatal|Fatalf|Fatalln)\(\s*(?:err\s*,\s*)?"((?:[^"\\]|\\.)*)"')
ERRF = re.compile(r'(?:fmt\.Errorf|errors\.New)\(\s*"((?:[^"\\]|\\.)*)"')
SKIP = ("vendor/", "Godeps/", "dist/", "e2e/", "images/")


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, *args], capture_output=True, text=True, check=True).stdout


def scan(git_dir: str, errors: bool) -> dict[tuple[str, str], dict[str, object]]:
    tags = [t for t in _git(git_dir, "tag").split() if re.fullmatch(r"v0\.\d+\.\d+", t)]
    tags.sort(key=lambda t: tuple(int(x) for x in t[1:].split(".")))
    out: dict[tuple[str, str], dict[str, object]] = {}
    for tag in tags:
        files = [f for f in _git(git_dir, "ls-tree", "-r", "--name-only", tag).split()
                 if f.endswith(".go") and not f.endswith("_test.go") and not f.startswith(SKIP)]
        for path in files:
            src = _git(git_dir, "show", f"{tag}:{path}")
            found = [("V" + m.group(1) if m.group(1) else m.group(2)[0], m.group(3)) for m in CALL.finditer(src)]
            if errors:
                found += [("err", m.group(1)) for m in ERRF.finditer(src)]
            for key in found:
                entry = out.setdefault(key, {"first": tag, "last": tag, "files": set()})
                entry["last"] = tag
                entry["files"].add(path.rsplit("/", 1)[-1])  # type: ignore[attr-defined]
    return out


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    found = scan(sys.argv[1], "--errors" in sys.argv)
    for (level, msg), e in sorted(found.items()):
        files = ",".join(sorted(e["files"]))  # type: ignore[call-overload]
        print(f"{level:3} {e['first']:>8}..{e['last']:<8} {files[:40]:40} {msg}")


if __name__ == "__main__":
    main()
