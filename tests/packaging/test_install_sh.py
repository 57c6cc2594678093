"""packaging/linux/install.sh, run by /bin/sh on a stand-in bundle (a script that answers
--version and records what it is asked) laid out as the spec lays out the real one.
packaging/smoke-test.sh runs it once more on the real bundle."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.packaging.conftest import PACKAGING, ROOT

FAKE_APP = """#!/bin/sh
echo "$*" >>"$HOME/calls.log"
[ "$1" = --version ] && echo "bulutpop 9.9.9"
exit 0
"""


@pytest.fixture
def bundle(bundling: ModuleType, tmp_path: Path) -> Path:
    folder = tmp_path / "dist" / "bulutpop"
    (folder / "_internal").mkdir(parents=True)
    app = folder / "bulutpop"
    app.write_text(FAKE_APP)
    app.chmod(0o755)
    bundling.write_linux_files(folder, "9.9.9", ROOT, PACKAGING)
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def run(script: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # What a user's shell would have; nothing from the test run (XDG_* unset).
    environment = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
    return subprocess.run(
        ["/bin/sh", str(script), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def installed_files(home: Path) -> list[str]:
    return sorted(
        str(p.relative_to(home))
        for p in home.rglob("*")
        if "bulutpop" in p.name and ".local/lib/bulutpop/" not in str(p)
    )


def entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_install_then_uninstall(bundle: Path, home: Path) -> None:
    result = run(bundle / "install.sh", home)
    assert result.returncode == 0, result.stderr
    assert "Installed bulutpop 9.9.9" in result.stdout

    lib = home / ".local" / "lib" / "bulutpop"
    assert (lib / "bulutpop").read_text() == FAKE_APP
    assert (lib / "install.sh").exists()  # so it can uninstall itself later
    launcher = home / ".local" / "bin" / "bulutpop"
    assert launcher.is_symlink() and launcher.resolve() == (lib / "bulutpop").resolve()

    desktop = home / ".local" / "share" / "applications" / "bulutpop.desktop"
    assert entry(desktop)["Exec"] == f'"{lib}/bulutpop" %u'
    assert entry(desktop)["MimeType"] == "x-scheme-handler/tel;x-scheme-handler/callto;"
    mimeapps = (home / ".config" / "mimeapps.list").read_text()
    assert "[Default Applications]" in mimeapps
    assert "x-scheme-handler/tel=bulutpop.desktop\n" in mimeapps
    assert "x-scheme-handler/callto=bulutpop.desktop\n" in mimeapps
    share = home / ".local" / "share"
    assert (share / "metainfo" / "io.github.bulutpop.metainfo.xml").exists()
    assert (share / "icons" / "hicolor" / "256x256" / "apps" / "bulutpop.png").exists()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "bulutpop.svg").exists()

    # Uninstalling with the installed copy of the script, as README says.
    result = run(lib / "install.sh", home, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert installed_files(home) == []
    assert not lib.exists()
    assert "bulutpop" not in (home / ".config" / "mimeapps.list").read_text()


def test_an_upgrade_replaces_the_installed_copy(bundle: Path, home: Path) -> None:
    assert run(bundle / "install.sh", home).returncode == 0
    lib = home / ".local" / "lib" / "bulutpop"
    (lib / "_internal" / "left-from-old-version.so").write_text("old")
    assert run(bundle / "install.sh", home).returncode == 0
    assert not (lib / "_internal" / "left-from-old-version.so").exists()
    assert not (lib.parent / "bulutpop.old").exists()
    assert not (lib.parent / "bulutpop.new").exists()


def test_existing_default_apps_are_kept(bundle: Path, home: Path) -> None:
    config = home / ".config"
    config.mkdir()
    (config / "mimeapps.list").write_text(
        "[Added Associations]\nx-scheme-handler/tel=other.desktop;\n\n"
        "[Default Applications]\ntext/html=firefox.desktop\n"
        "x-scheme-handler/tel=skype.desktop\n"
    )
    assert run(bundle / "install.sh", home).returncode == 0
    assert (config / "mimeapps.list").read_text() == (
        "[Added Associations]\nx-scheme-handler/tel=other.desktop;\n\n"
        "[Default Applications]\n"
        "x-scheme-handler/tel=bulutpop.desktop\nx-scheme-handler/callto=bulutpop.desktop\n"
        "text/html=firefox.desktop\n"
    )
    run(bundle / "install.sh", home, "--uninstall")
    assert (config / "mimeapps.list").read_text() == (
        "[Added Associations]\nx-scheme-handler/tel=other.desktop;\n\n"
        "[Default Applications]\ntext/html=firefox.desktop\n"
    )


def test_no_default_leaves_link_handlers_alone(bundle: Path, home: Path) -> None:
    result = run(bundle / "install.sh", home, "--no-default")
    assert result.returncode == 0, result.stderr
    assert not (home / ".config" / "mimeapps.list").exists()


def test_odd_install_paths_are_quoted_in_the_desktop_entry(bundle: Path, home: Path) -> None:
    prefix = home / 'my apps/$HOME "quoted" 100%'
    result = run(bundle / "install.sh", home, BULUTPOP_PREFIX=str(prefix))
    assert result.returncode == 0, result.stderr
    desktop = home / ".local" / "share" / "applications" / "bulutpop.desktop"
    # The Desktop Entry spec: inside quotes, " ` $ \\ take a backslash, and the value's own
    # escaping doubles backslashes; % is doubled.
    raw = next(line for line in desktop.read_text().splitlines() if line.startswith("Exec="))
    expected = str(prefix / "lib" / "bulutpop" / "bulutpop")
    escaped = expected.replace("%", "%%").replace("$", "\\\\$").replace('"', '\\\\"')
    assert raw == f'Exec="{escaped}" %u'
    tool = shutil.which("desktop-file-validate")
    if tool:
        check = subprocess.run([tool, str(desktop)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout


def test_purge_removes_settings_history_and_key(bundle: Path, home: Path) -> None:
    assert run(bundle / "install.sh", home).returncode == 0
    data = [home / ".config" / "bulutpop", home / ".local" / "share" / "bulutpop"]
    cache = home / ".cache" / "bulutpop"
    for folder in [*data, cache]:
        folder.mkdir(parents=True)
        (folder / "file").write_text("x")

    result = run(home / ".local" / "lib" / "bulutpop" / "install.sh", home, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert all(folder.exists() for folder in data)  # kept unless asked

    assert run(bundle / "install.sh", home).returncode == 0
    lib = home / ".local" / "lib" / "bulutpop"
    result = run(lib / "install.sh", home, "--uninstall", "--purge")
    assert result.returncode == 0, result.stderr
    assert not any(folder.exists() for folder in [*data, cache])
    assert "key delete --all" in (home / "calls.log").read_text().splitlines()


def test_the_autostart_entry_goes_with_the_app(bundle: Path, home: Path) -> None:
    assert run(bundle / "install.sh", home).returncode == 0
    autostart = home / ".config" / "autostart"
    autostart.mkdir(parents=True)
    lib = home / ".local" / "lib" / "bulutpop"
    (autostart / "bulutpop.desktop").write_text(f"[Desktop Entry]\nExec={lib}/bulutpop\n")
    assert run(lib / "install.sh", home, "--uninstall").returncode == 0
    assert not (autostart / "bulutpop.desktop").exists()


def test_refuses_a_folder_that_is_not_a_bundle(home: Path, tmp_path: Path) -> None:
    lonely = tmp_path / "elsewhere" / "install.sh"
    lonely.parent.mkdir()
    shutil.copy(PACKAGING / "linux" / "install.sh", lonely)
    result = run(lonely, home)
    assert result.returncode == 1
    assert "is not a bulutpop bundle" in result.stderr
    assert not (home / ".local").exists()


@pytest.mark.parametrize(
    "script",
    [PACKAGING / "linux" / "install.sh", PACKAGING / "smoke-test.sh", PACKAGING / "measure.sh",
     ROOT / "scripts" / "build"],
    ids=lambda p: p.name,
)  # fmt: skip
def test_shell_scripts_pass_shellcheck(script: Path) -> None:
    assert os.access(script, os.X_OK), f"{script} is not executable"
    tool = shutil.which("shellcheck")
    if tool is None:
        pytest.skip("shellcheck is not installed")
    result = subprocess.run([tool, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
