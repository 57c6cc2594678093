"""Smoke test of a built bundle on Windows or macOS (the hosted CI's, .github/workflows),
the steps of packaging/smoke-test.sh that mean the same there:

    python packaging/smoke_test.py                  # the bundle scripts/build made in dist/
    python packaging/smoke_test.py --app A --cli C  # given programs

Checks: the command line prints pyproject.toml's version; the tray app starts offscreen
and its receiver answers /health; a second start with a tel: link hands it over to the
running instance (its log says so) and exits 0; the app stops (SIGTERM: exit 0; Windows
has no SIGTERM, so there it is ended) having logged no traceback. Each program runs with
its own config and data folders; the HTTP client is this Python's standard library.
Exit status 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = "tel:+905321234567"


def default_programs() -> tuple[Path, Path]:
    """The tray app and the command line that scripts/build leaves in dist/."""
    if sys.platform == "win32":
        folder = ROOT / "dist" / "bulutpop"
        return folder / "bulutpop.exe", folder / "bulutpop-cli.exe"
    if sys.platform == "darwin":
        program = ROOT / "dist" / "bulutpop.app" / "Contents" / "MacOS" / "bulutpop"
        return program, program  # a windowed .app still prints to a terminal
    program = ROOT / "dist" / "bulutpop" / "bulutpop"
    return program, program


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def healthy(port: int, limit: float) -> float | None:
    """Seconds until /health said ok, or None after `limit`."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        try:
            url = f"http://127.0.0.1:{port}/health"
            with urllib.request.urlopen(url, timeout=1) as reply:
                if json.load(reply).get("status") == "ok":
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.1)
    return None


def wait_for_text(path: Path, text: str, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.1)
    return False


class Smoke:
    def __init__(self, app: Path, cli: Path, work: Path) -> None:
        self.app, self.cli, self.work = app, cli, work
        self.failures = 0
        self.env = {
            **os.environ,
            "BULUTPOP_CONFIG_DIR": str(work / "config"),
            "BULUTPOP_DATA_DIR": str(work / "data"),
            # Used instead of the keyring (none on a CI runner).
            "BULUTPOP_API_KEY": "K00000000-0000-0000-0000-000000000000",
            "QT_QPA_PLATFORM": "offscreen",
        }

    def check(self, ok: bool, what: str) -> bool:
        print(("ok: " if ok else "FAILED: ") + what, flush=True)
        self.failures += not ok
        return ok

    def cli_output(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.cli), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
        return done.stdout.strip()

    def run(self) -> int:
        with (ROOT / "pyproject.toml").open("rb") as fh:
            want = "bulutpop " + tomllib.load(fh)["project"]["version"]
        got = self.cli_output("--version")
        self.check(got == want, f"--version printed {got!r} (expected {want!r})")

        port = free_port()
        self.cli_output("config", "set", "listen_port", str(port))
        self.cli_output("config", "set", "extension", "1001")
        log = self.work / "data" / "bulutpop.log"
        with (self.work / "app.out").open("wb") as out:
            app = subprocess.Popen([str(self.app)], env=self.env, stdout=out, stderr=out)
        try:
            seconds = healthy(port, 60)
            if not self.check(seconds is not None, "the tray app's receiver answers /health"):
                return 1
            print(f"   after {seconds:.1f} s")
            second = subprocess.run(
                [str(self.app), LINK], env=self.env, capture_output=True, timeout=30
            )
            self.check(second.returncode == 0, f"a second start with {LINK} exited 0")
            self.check(
                wait_for_text(log, f"handed over: {LINK}", 10),
                "the running instance got the link",
            )
        finally:
            if sys.platform == "win32":
                app.terminate()
                app.wait(10)
            else:
                app.send_signal(signal.SIGTERM)
                try:
                    code = app.wait(15)
                except subprocess.TimeoutExpired:
                    app.kill()
                    code = app.wait(5)
                self.check(code == 0, f"the tray app exited {code} on SIGTERM")
        logged = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if not self.check("Traceback" not in logged, "the tray app logged no traceback"):
            print(logged[-4000:], file=sys.stderr)
        print(f"smoke: {self.failures} failed")
        return 1 if self.failures else 0


def main() -> int:
    app, cli = default_programs()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=app, help="the tray app's program")
    parser.add_argument("--cli", type=Path, default=cli, help="the command line's program")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bulutpop-smoke-", ignore_cleanup_errors=True) as work:
        return Smoke(args.app, args.cli, Path(work)).run()


if __name__ == "__main__":
    sys.exit(main())
