"""scripts/setup while another program holds the package manager's lock: it says so and
waits, or gives up with a clear message. Run on a copy of the script whose apt-get and dpkg
are stand-ins (and whose .venv is a stand-in python), so nothing is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.packaging.conftest import ROOT

# Refuses with apt's own words while the file "locked" exists; otherwise succeeds.
FAKE_APT = """#!/bin/sh
echo "$*" >>"$STATE/apt.log"
if [ -e "$STATE/locked" ]; then
    n=$(cat "$STATE/locked")
    if [ "$n" -gt 0 ]; then
        echo $((n - 1)) >"$STATE/locked"
        echo "E: Could not get lock /var/lib/dpkg/lock-frontend." \
            "It is held by process 4242 (unattended-upgr)" >&2
        exit 100
    fi
fi
exit 0
"""


def run_setup(tmp_path: Path, locked_for: int, wait: int) -> subprocess.CompletedProcess[str]:
    repo, bin_dir, state = tmp_path / "repo", tmp_path / "bin", tmp_path / "state"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup", repo / "scripts" / "setup")
    (repo / ".venv" / "bin").mkdir(parents=True)
    for path, text in (
        (repo / ".venv" / "bin" / "python", "#!/bin/sh\nexit 0\n"),
        (bin_dir / "apt-get", FAKE_APT),
        (bin_dir / "dpkg", "#!/bin/sh\nexit 1\n"),  # every package is missing
        (bin_dir / "sleep", "#!/bin/sh\nexit 0\n"),  # no real waiting in a test
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)
    state.mkdir()
    (state / "locked").write_text(str(locked_for))
    return subprocess.run(
        ["bash", str(repo / "scripts" / "setup")],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "STATE": str(state),
            "BULUTPOP_APT_WAIT": str(wait),
            "HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_setup_waits_for_the_package_managers_lock_and_says_so(tmp_path: Path) -> None:
    done = run_setup(tmp_path, locked_for=3, wait=600)
    assert done.returncode == 0, done.stderr
    assert "Waiting for another program using the package manager" in done.stdout
    assert done.stdout.count("Waiting for another program") == 1  # said once, not per try
    assert "Ready" in done.stdout
    log = (tmp_path / "state" / "apt.log").read_text().splitlines()
    assert log[-1].startswith("install -y -qq")


def test_setup_gives_up_on_a_lock_held_too_long_with_a_clear_message(tmp_path: Path) -> None:
    done = run_setup(tmp_path, locked_for=1000, wait=10)
    assert done.returncode != 0
    assert "the package manager is still busy" in done.stderr
    assert "run ./scripts/setup again" in done.stderr
    assert "Ready" not in done.stdout
