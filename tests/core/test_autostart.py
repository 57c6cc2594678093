"""Start at login on each platform, in temporary directories; Windows through a small
in-memory registry, so every path runs on every machine."""

from __future__ import annotations

import configparser
import plistlib
import re
import sys
from pathlib import Path

import pytest

from bulutpop.errors import AutostartError
from bulutpop.local import autostart

COMMAND = ["/opt/bulut pop/bin/python", "-m", "bulutpop"]


RUN = autostart.RUN_KEY
APPROVED = autostart.APPROVED_KEY
# StartupApproved\Run values as Task Manager writes them (flag word, then a FILETIME).
ENABLED = bytes.fromhex("02 00 00 00 00 00 00 00 00 00 00 00")
DISABLED = bytes.fromhex("03 00 00 00 17 79 BD 01 17 D9 D1 01")


class FakeRegistry:
    """HKEY_CURRENT_USER as a dict, like the real one: values by key and name, strings or
    bytes; delete of an absent one is not an error for the adapter."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str | bytes] = {}

    def get(self, key: str, name: str) -> str | bytes | None:
        return self.values.get((key, name))

    def set(self, key: str, name: str, value: str | bytes) -> None:
        self.values[key, name] = value

    def delete(self, key: str, name: str) -> None:
        self.values.pop((key, name), None)


class ReadOnlyRegistry(FakeRegistry):
    def set(self, key: str, name: str, value: str | bytes) -> None:
        raise PermissionError(13, "Access is denied")


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def exec_argv(exec_value: str) -> list[str]:
    """Split an Exec value as a launcher does: string escapes first, then the quoting rules
    (inside double quotes a backslash takes the next character literally), then %%."""
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    value = re.sub(r"\\(.)", lambda m: escapes.get(m[1], m[0]), exec_value)
    args: list[str] = []
    current: str | None = None
    quoted = escaped = False
    for ch in value:
        if escaped:
            current, escaped = (current or "") + ch, False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted, current = not quoted, current or ""
        elif ch == " " and not quoted:
            if current is not None:
                args.append(current)
            current = None
        else:
            current = (current or "") + ch
    if current is not None:
        args.append(current)
    return [arg.replace("%%", "%") for arg in args]


# --- Linux / XDG ---------------------------------------------------------------------------


def test_xdg_entry_written_enabled_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "autostart" / "bulutpop.desktop"
    assert not autostart.is_enabled(platform="linux", base=tmp_path)

    autostart.enable(COMMAND, platform="linux", base=tmp_path)

    entry = read_entry(path)
    assert entry["Type"] == "Application"
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert exec_argv(entry["Exec"]) == COMMAND
    assert autostart.is_enabled(platform="linux", base=tmp_path)

    autostart.disable(platform="linux", base=tmp_path)
    assert not path.exists()
    assert not autostart.is_enabled(platform="linux", base=tmp_path)
    autostart.disable(platform="linux", base=tmp_path)  # already off: no error


def test_xdg_exec_quotes_reserved_characters(tmp_path: Path) -> None:
    command = ['C:\\odd "dir"', "100%", "$HOME", "plain"]
    autostart.enable(command, platform="linux", base=tmp_path)
    exec_value = read_entry(tmp_path / "autostart" / "bulutpop.desktop")["Exec"]
    assert exec_value.split()[-3:] == ["100%%", '"\\\\$HOME"', "plain"]
    assert exec_argv(exec_value) == command


def test_xdg_entry_switched_off_by_the_desktop_counts_as_disabled(tmp_path: Path) -> None:
    autostart.enable(COMMAND, platform="linux", base=tmp_path)
    path = tmp_path / "autostart" / "bulutpop.desktop"
    path.write_text(path.read_text().replace("enabled=true", "enabled=false"))
    assert not autostart.is_enabled(platform="linux", base=tmp_path)
    path.write_text("[Desktop Entry]\nExec=bulutpop\nHidden=true\n")
    assert not autostart.is_enabled(platform="linux", base=tmp_path)
    path.write_text("not a desktop file")
    assert not autostart.is_enabled(platform="linux", base=tmp_path)


def test_xdg_default_base_follows_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    autostart.enable(COMMAND, platform="linux")
    assert (tmp_path / "xdg" / "autostart" / "bulutpop.desktop").exists()
    assert autostart.is_enabled(platform="linux")


def test_write_failure_says_where(tmp_path: Path) -> None:
    (tmp_path / "autostart").write_text("a file where the directory should be")
    with pytest.raises(AutostartError, match="autostart"):
        autostart.enable(COMMAND, platform="linux", base=tmp_path)


# --- macOS ---------------------------------------------------------------------------------


def test_launch_agent_written_enabled_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "Library" / "LaunchAgents" / "com.bulutpop.agent.plist"
    assert not autostart.is_enabled(platform="darwin", base=tmp_path)

    autostart.enable(COMMAND, platform="darwin", base=tmp_path)

    agent = plistlib.loads(path.read_bytes())
    assert agent["Label"] == "com.bulutpop.agent"
    assert agent["ProgramArguments"] == COMMAND
    assert agent["RunAtLoad"] is True
    assert autostart.is_enabled(platform="darwin", base=tmp_path)

    autostart.disable(platform="darwin", base=tmp_path)
    assert not path.exists()
    assert not autostart.is_enabled(platform="darwin", base=tmp_path)


def test_launch_agent_of_the_app_opens_it_by_bundle_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/Applications/bulutpop.app/Contents/MacOS/bulutpop")
    command = autostart.launch_command(platform="darwin")
    # Launch Services finds the app by its id after a move or an update; a path would not.
    assert command == ["/usr/bin/open", "-b", "io.github.bulutpop"]
    autostart.enable(command, platform="darwin", base=tmp_path)
    agent = plistlib.loads(autostart.agent_file(tmp_path).read_bytes())
    assert agent["ProgramArguments"] == command


def test_info_plist_has_the_bundle_id_the_launch_agent_opens() -> None:
    info = Path(__file__).resolve().parents[2] / "packaging" / "macos" / "Info.plist"
    assert plistlib.loads(info.read_bytes())["CFBundleIdentifier"] == autostart.BUNDLE_ID


def test_a_translocated_app_is_not_set_to_start_at_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    translocated = (
        "/private/var/folders/7d/k2f0t1xn3b5c_9q8w4r6y0000gn/T/AppTranslocation/"
        "3F2B1C9E-8D7A-4B6C-9E5F-1A2B3C4D5E6F/d/bulutpop.app/Contents/MacOS/bulutpop"
    )
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", translocated)
    with pytest.raises(AutostartError) as info:
        autostart.launch_command(platform="darwin")
    assert info.value.problem == "translocated"
    assert "Applications" in str(info.value)
    assert not autostart.agent_file(tmp_path).exists()


def test_launch_agent_without_run_at_load_is_disabled(tmp_path: Path) -> None:
    path = tmp_path / "Library" / "LaunchAgents" / "com.bulutpop.agent.plist"
    path.parent.mkdir(parents=True)
    path.write_bytes(plistlib.dumps({"Label": "com.bulutpop.agent", "RunAtLoad": False}))
    assert not autostart.is_enabled(platform="darwin", base=tmp_path)
    path.write_bytes(b"garbage")
    assert not autostart.is_enabled(platform="darwin", base=tmp_path)


# --- Windows -------------------------------------------------------------------------------


def test_run_key_value_set_and_deleted() -> None:
    registry = FakeRegistry()
    command = ["C:\\Program Files\\bulutpop\\bulutpop.exe"]
    assert not autostart.is_enabled(platform="win32", registry=registry)

    autostart.enable(command, platform="win32", registry=registry)

    assert registry.values == {(RUN, "bulutpop"): '"C:\\Program Files\\bulutpop\\bulutpop.exe"'}
    assert autostart.is_enabled(platform="win32", registry=registry)

    autostart.disable(platform="win32", registry=registry)
    assert registry.values == {}
    assert not autostart.is_enabled(platform="win32", registry=registry)
    autostart.disable(platform="win32", registry=registry)


def test_run_key_write_failure_is_reported() -> None:
    with pytest.raises(AutostartError, match="Access is denied"):
        autostart.enable(["bulutpop.exe"], platform="win32", registry=ReadOnlyRegistry())


def test_switched_off_in_task_manager_counts_as_disabled() -> None:
    registry = FakeRegistry()
    autostart.enable(["bulutpop.exe"], platform="win32", registry=registry)
    registry.set(APPROVED, "bulutpop", ENABLED)  # what Task Manager keeps for it
    assert autostart.is_enabled(platform="win32", registry=registry)

    # Task Manager → Startup apps → Disable: the Run value stays, Windows skips it.
    registry.set(APPROVED, "bulutpop", DISABLED)
    assert not autostart.is_enabled(platform="win32", registry=registry)
    registry.set(APPROVED, "bulutpop", bytes.fromhex("07 00 00 00 71 C9 33 AE 16 D9 D1 01"))
    assert not autostart.is_enabled(platform="win32", registry=registry)
    # Another app's switch is not ours.
    registry.set(APPROVED, "bulutpop", ENABLED)
    registry.set(APPROVED, "Teams", DISABLED)
    assert autostart.is_enabled(platform="win32", registry=registry)


@pytest.mark.parametrize(
    ("disabled", "enabled"),
    [
        (DISABLED, ENABLED),
        (bytes.fromhex("07 00 00 00 71 C9 33 AE 16 D9 D1 01"), bytes.fromhex("06" + "00" * 11)),
    ],
)
def test_enable_clears_task_managers_switch(disabled: bytes, enabled: bytes) -> None:
    registry = FakeRegistry()
    registry.set(RUN, "bulutpop", '"C:\\old\\bulutpop.exe"')
    registry.set(APPROVED, "bulutpop", disabled)
    registry.set(APPROVED, "Teams", DISABLED)

    autostart.enable(["C:\\new\\bulutpop.exe"], platform="win32", registry=registry)

    assert registry.get(RUN, "bulutpop") == "C:\\new\\bulutpop.exe"
    assert registry.get(APPROVED, "bulutpop") == enabled
    assert registry.get(APPROVED, "Teams") == DISABLED
    assert autostart.is_enabled(platform="win32", registry=registry)


@pytest.mark.skipif(sys.platform == "win32", reason="the real registry exists there")
def test_real_registry_is_refused_off_windows() -> None:
    with pytest.raises(AutostartError):
        autostart.enable(["bulutpop.exe"], platform="win32")


# --- the command ---------------------------------------------------------------------------


def test_launch_command_runs_the_module_from_a_python_install() -> None:
    command = autostart.launch_command()
    assert command[1:] == ["-m", "bulutpop"]
    assert Path(command[0]).name.lower().startswith("python")


def test_launch_command_of_a_frozen_app_is_the_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert autostart.launch_command() == [sys.executable]


def test_empty_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="command is empty"):
        autostart.enable([], platform="linux", base=tmp_path)


if sys.platform == "win32":  # run by the hosted Windows CI (.github/workflows/windows.yml)

    def test_the_real_registry_keeps_strings_and_bytes() -> None:
        import winreg

        registry = autostart._registry(None)
        key = r"Software\bulutpop-tests"  # never the real Run or StartupApproved key
        try:
            registry.set(key, "text", '"C:\\bulut pop\\bulutpop.exe"')
            registry.set(key, "flags", DISABLED)
            assert registry.get(key, "text") == '"C:\\bulut pop\\bulutpop.exe"'
            assert registry.get(key, "flags") == DISABLED
            registry.delete(key, "flags")
            registry.delete(key, "flags")  # absent: not an error
            assert registry.get(key, "flags") is None
            assert registry.get(key + r"\missing", "text") is None
        finally:
            registry.delete(key, "text")
            winreg.DeleteKey(winreg.HKEY_CURRENT_USER, key)
