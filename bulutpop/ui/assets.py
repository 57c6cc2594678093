"""Where icons, sounds and translations are: beside the package in a source tree, or in
the bundle PyInstaller made."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon


def resource_dir() -> Path:
    bundled = getattr(sys, "_MEIPASS", None)
    if bundled:
        return Path(bundled) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def path(*parts: str) -> Path:
    return resource_dir().joinpath(*parts)


def icon(name: str) -> QIcon:
    return QIcon(str(path("icons", f"{name}.svg")))
