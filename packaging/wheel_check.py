"""Checks an installed bulutpop: run by packaging/wheel-check.sh with the python of a fresh
virtual environment that holds the wheel (``python -I``, outside the checkout).

    python -I packaging/wheel_check.py --version 0.1.0

In this process, with the installed package:
- bulutpop comes from the environment's site-packages, not from a checkout;
- every icon loads and renders, the ring sound is a WAV file, the scenarios are there;
- Turkish, applied by bulutpop.ui.i18n, translates the app's strings; English loads;
- Europe/Istanbul resolves from the tzdata dependency alone (no system zoneinfo).
Then the installed ``bulutpop`` command, in a minimal environment of its own (env -i,
temporary HOME, config and data folders): prints the version; the tray app, in Turkish,
starts offscreen, answers /health, rings for a posted call (QtMultimedia loads the ring
sound) and exits 0 on SIGTERM, having logged no missing file and no traceback.

Standard library and the installed packages only. Exit status 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
import wave
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

# A message of bulutpop.ui.missed, in its translation context, and what a Turkish
# catalogue must not leave it as.
TRANSLATED = ("describe_error", "The API key was refused: check it in Settings.")
ICONS = ("bulutpop", "tray-listening", "tray-missed", "tray-paused", "tray-problem")
# The tray app's log must not say any of these.
BAD_LOG_LINES = (
    "Traceback",
    "Cannot open file",
    "no ring sound",
    "No QtMultimedia backends found",
    "Could not load the Qt platform plugin",
)


def ringing() -> str:
    """A call ringing now (the app rings only for news: an old one would pop nothing)."""
    now = datetime.now(zoneinfo.ZoneInfo("Europe/Istanbul")).strftime("%Y-%m-%d+%H%%3A%M%%3A%S")
    return (
        "event_type=ringing&domain_id=101&direction=inbound&caller_id_number=02123205062"
        "&destination_number=1001&dialed_user=1001&call_uuid=wheel-check-ring-1"
        f"&start_stamp={now}"
    )


failures = 0


def check(ok: bool, what: str, why: str = "") -> bool:
    global failures
    if ok:
        print(f"ok: {what}")
    else:
        failures += 1
        print(f"FAILED: {what}" + (f" ({why})" if why else ""))
    return ok


def check_package() -> None:
    import bulutpop

    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    package = Path(bulutpop.__file__).resolve().parent
    if not check(package.is_relative_to(site), f"bulutpop is the installed one: {package}"):
        raise SystemExit("wheel-check: run this outside the checkout, with python -I")

    from PySide6.QtCore import QCoreApplication, QTranslator
    from PySide6.QtWidgets import QApplication

    from bulutpop.devtools.replay import bundled_scenarios
    from bulutpop.ui import assets, i18n

    app = QApplication([])
    resources = assets.resource_dir()
    check(resources == package / "resources", f"resources from the package: {resources}")
    for name in ICONS:
        icon = assets.icon(name)
        renders = not icon.isNull() and not icon.pixmap(32, 32).isNull()
        check(renders, f"icon {name} loads and renders")
    ring = assets.path("sounds", "ring.wav")
    try:
        with wave.open(str(ring), "rb") as sound:
            seconds = sound.getnframes() / sound.getframerate()
        check(seconds > 0.5, f"ring sound: {ring.name}, {seconds:.1f} s")
    except (OSError, wave.Error) as exc:
        check(False, "ring sound", str(exc))
    check(len(bundled_scenarios()) > 0, f"scenarios: {len(bundled_scenarios())} files")

    translations = i18n.Translations()
    language = translations.apply("tr")
    text = QCoreApplication.translate(*TRANSLATED)
    check(
        language == "tr" and text not in ("", TRANSLATED[1]),
        f"Turkish: {TRANSLATED[1]!r} reads {text!r}",
    )
    check(translations.apply("en") == "en", "English applies")
    english = QTranslator()
    check(english.load(str(assets.path("i18n", "bulutpop_en.qm"))), "English catalogue loads")
    del app

    zoneinfo.reset_tzpath(to=[])  # no system zone files: only the tzdata package
    try:
        zone = zoneinfo.ZoneInfo.no_cache("Europe/Istanbul")
        check(str(zone) == "Europe/Istanbul", "Europe/Istanbul from tzdata")
    except zoneinfo.ZoneInfoNotFoundError as exc:
        check(False, "Europe/Istanbul from tzdata", str(exc))
    finally:
        zoneinfo.reset_tzpath()


def wait_for(condition: Callable[[], bool], seconds: float) -> float | None:
    """Seconds until condition() held, or None after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    return None


def check_app(version: str) -> None:
    exe = Path(sys.executable).with_name("bulutpop")
    with tempfile.TemporaryDirectory(prefix="bulutpop-wheel-app-") as folder:
        work = Path(folder)
        runtime = work / "runtime"
        runtime.mkdir(mode=0o700)
        (work / "home").mkdir()
        env = {
            "HOME": str(work / "home"),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TMPDIR": folder,
            "XDG_RUNTIME_DIR": str(runtime),
            "BULUTPOP_CONFIG_DIR": str(work / "config"),
            "BULUTPOP_DATA_DIR": str(work / "data"),
            "BULUTPOP_API_KEY": "K00000000-0000-0000-0000-000000000000",
            "QT_QPA_PLATFORM": "offscreen",
            "QT_LOGGING_RULES": "qt.multimedia.ffmpeg.info=true",
        }

        def bulutpop(*args: str) -> str:
            done = subprocess.run(
                [str(exe), *args], env=env, capture_output=True, text=True, timeout=60
            )
            if done.returncode != 0:
                raise SystemExit(f"wheel-check: bulutpop {' '.join(args)}: {done.stderr}")
            return done.stdout.strip()

        got = bulutpop("--version")
        check(got == f"bulutpop {version}", f"the bulutpop command: {got}")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        bulutpop("config", "set", "listen_port", str(port))
        bulutpop("config", "set", "extension", "1001")
        bulutpop("config", "set", "language", "tr")
        url = bulutpop("webhook-url")

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    return bool(json.load(r)["status"] == "ok")
            except OSError:
                return False

        log = work / "app.log"
        with log.open("w") as stderr:
            app = subprocess.Popen([str(exe)], env=env, stderr=stderr, stdout=stderr)
        try:
            seconds = wait_for(healthy, 30)
            if check(seconds is not None, f"the tray app answers /health ({seconds or 0:.1f} s)"):
                request = urllib.request.Request(
                    url,
                    data=ringing().encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                with urllib.request.urlopen(request, timeout=10) as reply:
                    check(reply.status == 200, f"a ringing call is acknowledged: {reply.status}")
                rang = wait_for(lambda: "Using Qt multimedia with FFmpeg" in log.read_text(), 10)
                check(rang is not None, "the ring loads QtMultimedia's FFmpeg backend")
            app.send_signal(signal.SIGTERM)
            try:
                code = app.wait(10)
                check(code == 0, f"the tray app exits {code} on SIGTERM")
            except subprocess.TimeoutExpired:
                check(False, "the tray app ends on SIGTERM", "still running after 10 s")
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
        text = log.read_text()
        data_log = work / "data" / "bulutpop.log"
        if data_log.exists():
            text += data_log.read_text()
        bad = [line for line in BAD_LOG_LINES if line in text]
        check(not bad, "the tray app's log is clean", f"it says {bad}")
        if failures:
            print(f"---- {log}\n{log.read_text()[-4000:]}----", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description="check an installed bulutpop")
    parser.add_argument("--version", required=True, help="the version the wheel must have")
    args = parser.parse_args()
    check_package()
    check_app(args.version)
    print(f"wheel-check: {'all passed' if not failures else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
