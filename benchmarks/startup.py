"""Start-up and memory benchmark: the tray app (`python -m bulutpop`, offscreen) next to a
minimal PySide6 tray app with qasync and an aiohttp server (the baseline, inline below).

    .venv/bin/python benchmarks/startup.py [--runs 5] [--idle 60]

- start: from spawning the process to its /health answering (polled every 5 ms), the median
  of `--runs` starts of each program, alternated so both see the same machine. Every
  bulutpop start gets fresh config and data directories (made beforehand with `bulutpop
  config set`, so the store exists), BULUTPOP_API_KEY and an extension (no first-run
  dialog), a free port, and the PBX API on a closed local port (its start-up catch-up and
  phonebook sync fail at once instead of reaching the real PBX).
- idle RSS: the last start of each is left running `--idle` seconds after answering, then
  VmRSS (and VmHWM, the peak) is read from /proc/PID/status.
- idle work: over the same idle time, from IDLE_SETTLE_S after answering (the start-up's own
  work, such as the failed catch-up, is over by then) to the end, the CPU seconds (utime +
  stime of /proc/PID/stat: every thread) and the wake-ups (voluntary context switches,
  summed over /proc/PID/task/*/status), both per minute, and the number of threads.

Both start as an installed app does: the checkout's modules are compiled to bytecode first
(`compileall`), as pip does at install; otherwise every fresh start would compile them.

Targets: start <= 1.3x the minimal app's; idle RSS <= minimal + 40 MB (no worse than before:
minimal + 23 MB); idle work as close to the minimal app's as can be.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import free_port, load_average

from bulutpop.devtools.fakepbx import DEMO_KEY

TARGET_START_RATIO = 1.3
TARGET_EXTRA_MB = 40.0
IDLE_SETTLE_S = 10.0

MINIMAL_APP = """
import asyncio, os, signal, sys
os.environ.setdefault("QT_API", "pyside6")
import qasync
from aiohttp import web
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

app = QApplication(sys.argv[:1])
app.setQuitOnLastWindowClosed(False)
pixmap = QPixmap(64, 64)
pixmap.fill(QColor("#2563eb"))
tray = QSystemTrayIcon(QIcon(pixmap))
tray.show()
hidden = QWidget()
loop = qasync.QSelectorEventLoop(app)
asyncio.set_event_loop(loop)

async def health(request):
    return web.json_response({"status": "ok"})

async def main():
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    server = web.Application()
    server.router.add_get("/health", health)
    runner = web.AppRunner(server, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[1])).start()
    await done.wait()
    await runner.cleanup()

with loop:
    loop.run_until_complete(main())
"""


def base_env() -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QT_API": "pyside6",
        "QT_LOGGING_RULES": "qt.multimedia.*=false",
    }


def prepare_bulutpop(home: Path, port: int) -> dict[str, str]:
    env = {
        **base_env(),
        "BULUTPOP_CONFIG_DIR": str(home / "config"),
        "BULUTPOP_DATA_DIR": str(home / "data"),
        "BULUTPOP_API_KEY": DEMO_KEY,
        # Never the real PBX: a closed local port (catch-up and phonebook sync fail at once).
        "BULUTPOP_API_URL": "http://127.0.0.1:9",
    }
    for key, value in (("extension", "1001"), ("listen_port", str(port))):
        subprocess.run(
            [sys.executable, "-m", "bulutpop", "config", "set", key, value],
            env=env,
            check=True,
            capture_output=True,
        )
    return env


def start(
    command: list[str], env: dict[str, str], port: int
) -> tuple[subprocess.Popen[bytes], float, float]:
    """Spawn and wait for /health; returns the process, the seconds it took and the CPU
    seconds it used meanwhile (less skewed than the wall time by other work on the cores)."""
    url = f"http://127.0.0.1:{port}/health"
    began = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while time.perf_counter() - began < 30:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    took = time.perf_counter() - began
                    return process, took, idle_work(process.pid)[0]
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if process.poll() is not None:
            raise SystemExit(f"{command} exited with {process.returncode} before listening")
        time.sleep(0.005)
    process.kill()
    raise SystemExit(f"{command} did not answer /health within 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def idle_work(pid: int) -> tuple[float, int, int]:
    """(CPU seconds, voluntary context switches, threads) of a process so far, every thread
    counted."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    switches = threads = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        threads += 1
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                switches += int(line.split()[1])
    return cpu, switches, threads


def compile_checkout() -> None:
    """Bytecode for the checkout's modules, as an install has (pip compiles at install)."""
    import bulutpop

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(bulutpop.__file__).parent)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="starts of each program")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds before reading RSS")
    args = parser.parse_args()

    compile_checkout()
    load_before = load_average()
    starts: dict[str, list[float]] = {"minimal": [], "bulutpop": []}
    cpus: dict[str, list[float]] = {"minimal": [], "bulutpop": []}
    kept: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
    with tempfile.TemporaryDirectory(prefix="bulutpop-start-") as tmp:
        for run in range(args.runs):
            last = run == args.runs - 1
            # minimal
            port = free_port()
            process, took, cpu = start(
                [sys.executable, "-c", MINIMAL_APP, str(port)], base_env(), port
            )
            starts["minimal"].append(took)
            cpus["minimal"].append(cpu)
            if last:
                kept["minimal"] = (process, time.monotonic())
            else:
                stop(process)
            # bulutpop, fresh directories each time
            port = free_port()
            env = prepare_bulutpop(Path(tmp) / f"run{run}", port)
            process, took, cpu = start([sys.executable, "-m", "bulutpop"], env, port)
            starts["bulutpop"].append(took)
            cpus["bulutpop"].append(cpu)
            if last:
                kept["bulutpop"] = (process, time.monotonic())
            else:
                stop(process)
            print(
                f"run {run + 1}: minimal {starts['minimal'][-1]:.3f} s,"
                f" bulutpop {starts['bulutpop'][-1]:.3f} s",
                flush=True,
            )

        print(f"idling {args.idle:.0f} s…", flush=True)
        memory: dict[str, tuple[float, float]] = {}
        work: dict[str, tuple[float, float, int, float]] = {}
        try:
            settled: dict[str, tuple[float, tuple[float, int, int]]] = {}
            for name in ("minimal", "bulutpop"):
                process, since = kept[name]
                time.sleep(max(0.0, since + IDLE_SETTLE_S - time.monotonic()))
                settled[name] = (time.monotonic(), idle_work(process.pid))
            for name in ("minimal", "bulutpop"):
                process, since = kept[name]
                time.sleep(max(0.0, since + args.idle - time.monotonic()))
                if process.poll() is not None:
                    raise SystemExit(f"{name} exited while idle ({process.returncode})")
                memory[name] = memory_mb(process.pid)
                cpu, switches, threads = idle_work(process.pid)
                began, (cpu0, switches0, _) = settled[name]
                minutes = (time.monotonic() - began) / 60
                work[name] = (
                    (cpu - cpu0) / minutes,
                    (switches - switches0) / minutes,
                    threads,
                    minutes,
                )
        finally:
            for process, _ in kept.values():
                stop(process)

    print(f"load average {load_before} -> {load_average()}")
    print(f"{'program':<10} {'start p50 s':>11} {'min s':>6} {'max s':>6} {'CPU p50 s':>9} "
          f"{'idle RSS MB':>11} {'peak RSS MB':>11} {'idle CPU s/min':>14} "
          f"{'wake-ups/min':>12} {'threads':>7}")  # fmt: skip
    for name in ("minimal", "bulutpop"):
        values = starts[name]
        rss, peak = memory[name]
        cpu, wakeups, threads, _minutes = work[name]
        print(
            f"{name:<10} {statistics.median(values):>11.3f} {min(values):>6.3f}"
            f" {max(values):>6.3f} {statistics.median(cpus[name]):>9.3f} {rss:>11.1f}"
            f" {peak:>11.1f} {cpu:>14.3f} {wakeups:>12.0f} {threads:>7}"
        )
    print(f"(idle work measured over the last {work['bulutpop'][3] * 60:.0f} s of the idle time)")
    start_s = statistics.median(starts["bulutpop"])
    ratio = start_s / statistics.median(starts["minimal"])
    extra = memory["bulutpop"][0] - memory["minimal"][0]
    cpu_ratio = statistics.median(cpus["bulutpop"]) / statistics.median(cpus["minimal"])
    print(f"CPU to listening: {cpu_ratio:.2f}x minimal's")
    print(
        f"target: start <= {TARGET_START_RATIO:.1f}x minimal -> {ratio:.2f}x ({start_s:.3f} s)"
        f" {'MET' if ratio <= TARGET_START_RATIO else 'MISSED'}"
    )
    print(
        f"target: idle RSS <= minimal + {TARGET_EXTRA_MB:.0f} MB -> minimal + {extra:.1f} MB"
        f" after {args.idle:.0f} s {'MET' if extra <= TARGET_EXTRA_MB else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
