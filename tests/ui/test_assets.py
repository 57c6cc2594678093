"""Icons, the ring sound and the translations are found in a checkout and where a wheel
or the PyInstaller bundle puts them (bulutpop/resources/, beside the modules)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from bulutpop.ui import assets

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_reads_the_top_level_resources() -> None:
    assert assets.resource_dir() == ROOT / "resources"
    assert assets.path("sounds", "ring.wav").is_file()
    assert assets.path("i18n", "bulutpop_tr.qm").is_file()


def test_installed_resources_are_found_beside_the_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "site-packages" / "bulutpop"
    (installed / "resources" / "icons").mkdir(parents=True)
    monkeypatch.setattr(assets, "files", lambda package: {"bulutpop": installed}[package])
    assert (
        assets.path("icons", "bulutpop.svg") == installed / "resources" / "icons" / "bulutpop.svg"
    )


def test_the_icons_render(qapp: QApplication) -> None:
    for name in ("bulutpop", "tray-listening", "tray-missed", "tray-paused", "tray-problem"):
        icon = assets.icon(name)
        assert not icon.isNull(), name
        assert not icon.pixmap(32, 32).isNull(), name
