"""The architecture the tree promises: the core (everything outside `bulutpop/ui/`) loads
no Qt, and the product loads its development tools (`bulutpop/devtools/`) only when one of
them runs. Checked in a fresh interpreter, so that what another test imported cannot hide
an import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bulutpop

PACKAGE = Path(bulutpop.__file__).parent


def modules(*skip: str) -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(part in skip for part in parts) and parts[-1] != "__main__":
            names.append(".".join(parts))
    return names


def loaded_after_importing(names: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return set(json.loads(out))


def test_the_core_loads_no_qt_and_no_development_tools() -> None:
    core = modules("ui", "devtools")
    assert "bulutpop.cli" in core and "bulutpop.team.relay.service" in core
    loaded = loaded_after_importing(core)
    assert not {m for m in loaded if m.split(".")[0] in ("PySide6", "shiboken6", "qasync")}
    assert not {m for m in loaded if m.startswith("bulutpop.devtools")}


def test_the_tray_app_loads_no_development_tools() -> None:
    loaded = loaded_after_importing(modules("devtools"))
    assert "bulutpop.ui.app" in loaded and "PySide6.QtWidgets" in loaded
    assert not {m for m in loaded if m.startswith("bulutpop.devtools")}
