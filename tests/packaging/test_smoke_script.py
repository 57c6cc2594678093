"""packaging/smoke_test.py, the hosted Windows and macOS CI's smoke test, which cannot run
here on its platforms: run against this checkout's app, through a launcher standing in for
the bundle's program, so that what it relies on (the log line of a hand-off, the log file's
place, the exit codes) is checked wherever the tests run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import PACKAGING


@pytest.mark.skipif(sys.platform == "win32", reason="the launcher is a shell script")
@pytest.mark.slow
def test_ci_smoke_script_passes_against_the_app(tmp_path: Path) -> None:
    launcher = tmp_path / "bulutpop"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bulutpop "$@"\n')
    launcher.chmod(0o755)
    script = PACKAGING / "smoke_test.py"
    done = subprocess.run(
        [sys.executable, str(script), "--app", str(launcher), "--cli", str(launcher)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok: the running instance got the link" in done.stdout
    assert "smoke: 0 failed" in done.stdout
