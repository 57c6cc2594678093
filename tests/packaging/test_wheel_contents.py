"""What a wheel built from pyproject.toml holds: every package under bulutpop/, and the
resources/ folder as the package data of bulutpop.resources, the same files the
PyInstaller bundle gets (packaging/wheel-check.sh builds and runs a real wheel)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.packaging.conftest import ROOT


def _setuptools() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        config: dict[str, Any] = tomllib.load(fh)["tool"]["setuptools"]
    return config


def _source_dir(package: str) -> Path:
    mapped = _setuptools().get("package-dir", {}).get(package)
    return ROOT / (mapped if mapped else package.replace(".", "/"))


def test_every_package_is_in_the_wheel() -> None:
    listed = set(_setuptools()["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "bulutpop").rglob("__init__.py")
    }
    missing = sorted(on_disk - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == {"bulutpop.resources"}


def test_resources_are_the_package_data_of_bulutpop_resources() -> None:
    config = _setuptools()
    assert config["package-dir"] == {"bulutpop.resources": "resources"}
    # A module there would be installed as bulutpop.resources.<name>: tools go in scripts/.
    assert not sorted((ROOT / "resources").glob("*.py"))
    # Only the declared data, never whatever git knows of (.ts sources, generated stubs).
    assert config["include-package-data"] is False


def test_the_bundle_ships_the_wheels_package_data(bundling: ModuleType) -> None:
    wheel = set()
    for package, patterns in _setuptools()["package-data"].items():
        source = _source_dir(package)
        for pattern in patterns:
            for path in source.glob(pattern):
                if path.is_file():
                    folder = path.parent.relative_to(source).as_posix()
                    dest = package.replace(".", "/") + ("" if folder == "." else f"/{folder}")
                    wheel.add((path.relative_to(ROOT).as_posix(), dest))
    bundle = {(Path(src).relative_to(ROOT).as_posix(), dest) for src, dest in bundling.data_files()}
    assert bundle == wheel
    assert ("resources/i18n/bulutpop_tr.qm", "bulutpop/resources/i18n") in wheel
