"""packaging/bundling.py, loaded by path: the folder is not a package (``import packaging``
means the PyPI library that pip and pytest use)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bulutpop_bundling", PACKAGING / "bundling.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bundling() -> ModuleType:
    return _load()
