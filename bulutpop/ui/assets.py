"""Where icons, sounds and translations are.

They are the package data of ``bulutpop.resources``: a wheel installs them in
``bulutpop/resources/`` beside the modules, and the PyInstaller bundle puts them at the same
place, so ``importlib.resources`` finds them through the ``bulutpop`` package in both. In a
source checkout, and in an editable install of one, they stay in the top-level
``resources/`` folder that pyproject.toml maps to ``bulutpop.resources`` when it builds.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from PySide6.QtGui import QIcon


def resource_dir() -> Path:
    # Not files("bulutpop.resources"): in a checkout that name is importable only through an
    # editable install, whose finder may point at another checkout than the one running.
    installed = files("bulutpop") / "resources"
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "resources"


def path(*parts: str) -> Path:
    return resource_dir().joinpath(*parts)


def icon(name: str) -> QIcon:
    return QIcon(str(path("icons", f"{name}.svg")))
