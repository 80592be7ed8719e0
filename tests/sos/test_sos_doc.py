"""docs/sosreport.md is generated from the sos names of netsnap/sources.py, and its command lines name
only plugins that write those names in the release they are for."""

from __future__ import annotations

from pathlib import Path

from netsnap.bundle.sos_doc import command_line, render, sos_plugins

DOC = Path(__file__).resolve().parents[2] / "docs" / "sosreport.md"


def test_committed_doc_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run `make docs` and commit docs/sosreport.md"


def test_the_doc_lists_every_sos_name() -> None:
    from netsnap.sources import SOS_ONLY_SOURCES, SOURCES

    text = render()
    for source in (*SOURCES, *SOS_ONLY_SOURCES):
        assert f"| `{source.id}` |" in text, source.id
        for name in source.sos_names:
            assert f"`{name.path}`" in text, name.path


def test_command_line_follows_the_release() -> None:
    # firewall_tables exists since 4.1; Debian's sos has a kubernetes class only since 4.7.0 and no firewalld
    # class at all; 3.5.1 split
    # general into host, date and release
    assert set(sos_plugins("4.0", debian=True)) == {"networking", "kernel", "logs", "host", "date", "release",
                                                    "system", "systemd", "container_log", "hardware"}
    assert "hardware" in sos_plugins("3.5")  # /sys/class/dmi/id/* since 3.5 (an IndependentPlugin)
    assert "firewalld" in sos_plugins("4.0") and "firewalld" not in sos_plugins("4.12.0", debian=True)
    assert "ufw" in sos_plugins("4.1") and "ufw" not in sos_plugins("4.0")  # 4.0: ufw status in networking
    assert "kubernetes" in sos_plugins("4.0") and "kubernetes" in sos_plugins("4.7.0", debian=True)
    assert "firewall_tables" in sos_plugins("4.1") and "firewall_tables" not in sos_plugins("4.0")
    assert "general" in sos_plugins("3.5") and "general" not in sos_plugins("3.5.1")
    assert "container_log" not in sos_plugins("3.7") and "container_log" in sos_plugins("3.8")
    assert command_line("3.9").startswith("sosreport --batch -o ")
    assert command_line("4.12.0").startswith("sos report --batch -o ")
