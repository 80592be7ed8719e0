"""Every Python package in the source tree ships in the wheel (pyproject lists them explicitly)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "netsnap").rglob("__init__.py")
    } | {"netsnap.builtin_rules", "netsnap.collectors"}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert config["package-dir"]["netsnap.builtin_rules"] == "rules"


def test_the_collector_ships_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["netsnap.collectors"] == "collectors"
    assert "netsnap.collectors" in config["packages"]
    assert config["package-data"]["netsnap.collectors"] == ["netsnap-collect.sh"]
    assert (ROOT / "collectors" / "netsnap-collect.sh").is_file()
