"""The built wheel ships the rules and the host collector: install it into a clean venv and use both from
outside the repo."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from netsnap.engine.discovery import all_rules

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_lists_every_rule_and_ships_the_collector(tmp_path: Path) -> None:
    # build from a clean copy of the sources: an in-tree build/ directory could carry stale modules
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("netsnap", "rules", "collectors"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(wheels.glob("netsnap_analyzer-*.whl"))
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    py = env / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # dependencies come from the development venv's site-packages (not the repo: the repo must not be importable)
    deps = [p for p in [*site.getsitepackages(), sysconfig.get_paths()["purelib"]] if Path(p).is_dir()]
    (Path(purelib) / "netsnap-deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    inst = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr[-2000:]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    res = subprocess.run([str(py), "-m", "netsnap", "rules", "list"], capture_output=True, text=True, cwd=outside,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    listed = [line.split()[0] for line in res.stdout.splitlines() if line.strip()]
    assert listed == sorted(r.meta.id for r in all_rules())
    collector = subprocess.run([str(env / "bin" / "netsnap"), "collector", "--print"], capture_output=True, text=True,
                               cwd=outside, timeout=120)
    assert collector.returncode == 0, collector.stderr[-2000:]
    assert collector.stdout == (REPO / "collectors" / "netsnap-collect.sh").read_text(encoding="utf-8")
    version = subprocess.run([str(env / "bin" / "netsnap"), "--version"], capture_output=True, text=True, cwd=outside,
                             timeout=60)
    assert version.stdout.startswith("netsnap ")
    where = subprocess.run([str(py), "-c", "import netsnap.builtin_rules as m; print(m.__file__)"],
                           capture_output=True, text=True, cwd=outside, check=True).stdout
    assert str(REPO) not in where, f"rules imported from the repo, not the wheel: {where}"
