"""Start bulutpop when the user logs in: an XDG autostart entry on Linux (and other
freedesktop systems), a value under the Run key on Windows, a LaunchAgent on macOS.

Every function takes the platform (``sys.platform`` values) and a base directory, so each
path can be exercised on any machine with temporary directories: on Linux ``base`` is the
XDG config directory (default ``$XDG_CONFIG_HOME`` or ``~/.config``), on macOS the home
directory. Windows writes the registry through a `Registry` adapter; the real one imports
``winreg`` only when used, and tests pass a fake.

Windows users also switch login items off in Task Manager's Startup tab (Settings → Apps →
Startup), which leaves the Run value alone and marks it in ``StartupApproved\\Run``: a
12-byte binary value of the same name, a little-endian flag word whose lowest bit means
"disabled" (02 00 00 00 enabled, 03 00 00 00 disabled; some entries use 06/07) and then the
FILETIME of the switch. No value there means enabled.
"""

from __future__ import annotations

import configparser
import os
import plistlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from bulutpop.errors import AutostartError
from bulutpop.local.private import write_private

APP_NAME = "bulutpop"
BUNDLE_ID = "io.github.bulutpop"  # packaging/macos/Info.plist's CFBundleIdentifier
DESKTOP_FILE = "bulutpop.desktop"
AGENT_LABEL = "com.bulutpop.agent"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"


class Registry(Protocol):
    """Values under ``HKEY_CURRENT_USER``, by key and name: a string (REG_SZ) or bytes
    (REG_BINARY)."""

    def get(self, key: str, name: str) -> str | bytes | None: ...

    def set(self, key: str, name: str, value: str | bytes) -> None: ...

    def delete(self, key: str, name: str) -> None:
        """Remove the value; nothing happens when it is absent."""


if sys.platform == "win32":

    class _CurrentUser:
        """The current user's registry, through ``winreg``."""

        def get(self, key: str, name: str) -> str | bytes | None:
            import winreg

            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
                    value, _kind = winreg.QueryValueEx(handle, name)
            except FileNotFoundError:
                return None
            return value if isinstance(value, str | bytes) else str(value)

        def set(self, key: str, name: str, value: str | bytes) -> None:
            import winreg

            kind = winreg.REG_BINARY if isinstance(value, bytes) else winreg.REG_SZ
            with winreg.CreateKeyEx(
                winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE
            ) as handle:
                winreg.SetValueEx(handle, name, 0, kind, value)

        def delete(self, key: str, name: str) -> None:
            import winreg

            try:
                with winreg.OpenKey(
                    winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE
                ) as handle:
                    winreg.DeleteValue(handle, name)
            except FileNotFoundError:
                pass


def _registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    if sys.platform == "win32":
        return _CurrentUser()
    raise AutostartError("the Windows registry can only be changed on Windows")


def _switched_off(approval: str | bytes | None) -> bool:
    """Whether a ``StartupApproved\\Run`` value says the user disabled the login item."""
    return isinstance(approval, bytes) and len(approval) > 0 and bool(approval[0] & 1)


def _switched_on(approval: bytes) -> bytes:
    """The value as Task Manager writes it for "enabled": the flag without its disabled
    bit (its other bits kept), no time stamp."""
    flags = approval[:4].ljust(4, b"\0")
    return bytes([flags[0] & ~1 & 0xFF]) + flags[1:] + bytes(8)


def _kind(platform: str | None) -> str:
    platform = sys.platform if platform is None else platform
    if platform == "win32":
        return "windows"
    if platform == "darwin":
        return "macos"
    return "xdg"


def asked_by_installer(platform: str | None = None) -> bool:
    """Whether the installer asked about starting at login (Windows' does, and writes the
    Run value only when the user said yes), so that a first-run wizard keeps that answer."""
    return _kind(platform) == "windows"


def desktop_file(base: Path | None = None) -> Path:
    if base is None:
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        # The spec says to ignore a relative XDG_CONFIG_HOME.
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config"
    return base / "autostart" / DESKTOP_FILE


def agent_file(base: Path | None = None) -> Path:
    home = Path.home() if base is None else base
    return home / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"


# Characters that force an Exec argument into quotes (Desktop Entry spec, "The Exec key").
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


def _exec_arg(arg: str) -> str:
    arg = arg.replace("%", "%%")  # % starts a field code
    if arg and not _RESERVED.intersection(arg):
        return arg
    quoted = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    # Exec is also a string value, whose own escapes apply on top of the quoting rules:
    # a literal backslash inside quotes ends up as four.
    return quoted.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def desktop_entry(command: list[str]) -> str:
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            f"Name={APP_NAME}",
            "Comment=Screen pop, missed calls and click-to-dial for Bulutsantralim",
            "Exec=" + " ".join(_exec_arg(a) for a in command),
            f"Icon={APP_NAME}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def _desktop_enabled(path: Path) -> bool:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError, configparser.Error):
        return False  # not an entry we wrote; enable() replaces it
    entry = parser["Desktop Entry"] if parser.has_section("Desktop Entry") else None
    if entry is None:
        return False
    # Desktops let the user switch an entry off without deleting it, in either of two ways.
    return (
        entry.get("Hidden", "false").strip() != "true"
        and entry.get("X-GNOME-Autostart-enabled", "true").strip() != "false"
    )


def _agent_enabled(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            agent = plistlib.load(fh)
    except FileNotFoundError:
        return False
    except (OSError, plistlib.InvalidFileException, ValueError):
        return False
    return isinstance(agent, dict) and agent.get("RunAtLoad") is True


def is_enabled(
    *, platform: str | None = None, base: Path | None = None, registry: Registry | None = None
) -> bool:
    """Whether bulutpop is set to start at login (by us, or by the user by hand)."""
    kind = _kind(platform)
    if kind == "windows":
        try:
            values = _registry(registry)
            return bool(values.get(RUN_KEY, APP_NAME)) and not _switched_off(
                values.get(APPROVED_KEY, APP_NAME)
            )
        except OSError:
            return False
    if kind == "macos":
        return _agent_enabled(agent_file(base))
    return _desktop_enabled(desktop_file(base))


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # the desktop's folder, not ours
        write_private(path, data)
    except OSError as exc:
        raise AutostartError(f"could not write {path}: {exc.strerror or exc}") from None


def enable(
    command: list[str],
    *,
    platform: str | None = None,
    base: Path | None = None,
    registry: Registry | None = None,
) -> None:
    """Start `command` (see `launch_command`) at every login, replacing an older entry."""
    if not command:
        raise ValueError("command is empty")
    kind = _kind(platform)
    if kind == "windows":
        values = _registry(registry)
        key = RUN_KEY
        try:
            values.set(key, APP_NAME, subprocess.list2cmdline(command))
            # Switched off in Task Manager: Windows would skip the Run value regardless.
            key = APPROVED_KEY
            approval = values.get(key, APP_NAME)
            if isinstance(approval, bytes) and _switched_off(approval):
                values.set(key, APP_NAME, _switched_on(approval))
        except OSError as exc:
            raise AutostartError(
                f"could not write HKCU\\{key}\\{APP_NAME}: {exc.strerror or exc}"
            ) from None
    elif kind == "macos":
        agent = {
            "Label": AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            # Only in the graphical session, not for ssh logins.
            "LimitLoadToSessionType": "Aqua",
        }
        _write(agent_file(base), plistlib.dumps(agent))
    else:
        _write(desktop_file(base), desktop_entry(command).encode("utf-8"))


def disable(
    *, platform: str | None = None, base: Path | None = None, registry: Registry | None = None
) -> None:
    """Stop starting at login; nothing happens when it was not enabled."""
    kind = _kind(platform)
    if kind == "windows":
        try:
            _registry(registry).delete(RUN_KEY, APP_NAME)
        except OSError as exc:
            raise AutostartError(
                f"could not remove HKCU\\{RUN_KEY}\\{APP_NAME}: {exc.strerror or exc}"
            ) from None
        return
    path = agent_file(base) if kind == "macos" else desktop_file(base)
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise AutostartError(f"could not remove {path}: {exc.strerror or exc}") from None


def launch_command(*, platform: str | None = None) -> list[str]:
    """How to start this installation of bulutpop: the frozen executable (on macOS, the app
    by its bundle id), or the module. AutostartError ("translocated") when macOS runs the
    app from a copy that will be gone at the next login."""
    kind = _kind(platform)
    if getattr(sys, "frozen", False):
        if kind != "macos":
            return [sys.executable]
        # Gatekeeper runs an app opened straight from a quarantined download from a random
        # read-only copy under /private/var/folders/…/AppTranslocation/, which disappears.
        if "AppTranslocation" in Path(sys.executable).parts:
            raise AutostartError(
                f"macOS runs bulutpop from a temporary copy ({sys.executable}): move "
                "bulutpop.app into Applications and open it from there",
                problem="translocated",
            )
        # Launch Services finds the app wherever it is now, also after a move or an update.
        return ["/usr/bin/open", "-b", BUNDLE_ID]
    python = Path(sys.executable)
    if kind == "windows" and python.name.lower() == "python.exe":
        # pythonw has no console window: a tray app should not open one at every login.
        windowless = python.with_name("pythonw.exe")
        if windowless.exists():
            python = windowless
    return [str(python), "-m", APP_NAME]
