"""The files that make bulutpop a desktop app with tel:/callto: links on each platform:
the macOS Info.plist, the Linux desktop entry and AppStream metainfo, the Inno Setup
script. Windows and macOS builds cannot run here, so their files are checked as files."""

from __future__ import annotations

import configparser
import plistlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from tests.packaging.conftest import PACKAGING

DESKTOP = PACKAGING / "linux" / "bulutpop.desktop"
METAINFO = PACKAGING / "linux" / "io.github.bulutpop.metainfo.xml"
ISS = PACKAGING / "windows" / "bulutpop.iss"

# -- macOS ---------------------------------------------------------------------------------


def test_info_plist_is_a_tray_app_for_tel_and_callto(bundling: ModuleType) -> None:
    with (PACKAGING / "macos" / "Info.plist").open("rb") as fh:
        source = plistlib.load(fh)
    assert source["LSUIElement"] is True  # no Dock icon, no app menu
    assert source["LSBackgroundOnly"] is False  # …but windows and popups
    assert source["CFBundleIdentifier"] == bundling.APP_ID
    (url_type,) = source["CFBundleURLTypes"]
    assert sorted(url_type["CFBundleURLSchemes"]) == ["callto", "tel"]
    assert url_type["CFBundleTypeRole"] == "Viewer"
    assert url_type["CFBundleURLName"]
    assert "CFBundleShortVersionString" not in source  # comes from pyproject.toml


def test_info_plist_gets_the_version(bundling: ModuleType) -> None:
    info = bundling.info_plist("1.4.0rc2")
    assert info["CFBundleShortVersionString"] == "1.4.0rc2"
    assert info["CFBundleVersion"] == "1.4.0"  # numbers and dots only
    # PyInstaller's BUNDLE writes its defaults updated with these keys (building/osx.py).
    defaults = {
        "CFBundleDisplayName": "bulutpop",
        "CFBundleName": "bulutpop",
        "CFBundleIdentifier": bundling.APP_ID,
        "CFBundleExecutable": "bulutpop",
        "CFBundleIconFile": "bulutpop.icns",
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": "1.4.0rc2",
        "LSBackgroundOnly": True,  # what a console=True EXE would get
    }
    written = plistlib.loads(plistlib.dumps({**defaults, **info}, fmt=plistlib.FMT_XML))
    assert written["LSUIElement"] is True and written["LSBackgroundOnly"] is False
    assert written["CFBundleURLTypes"][0]["CFBundleURLSchemes"] == ["tel", "callto"]
    assert written["CFBundleExecutable"] == "bulutpop"


def test_info_plist_says_why_it_needs_the_local_network(bundling: ModuleType) -> None:
    # macOS 15 asks before an app reaches the LAN (a team relay in the office), and shows
    # this reason; without it the request is refused without asking.
    info = bundling.info_plist("1.0.0")
    assert "relay" in info["NSLocalNetworkUsageDescription"]


def test_turkish_info_plist_strings_are_bundled(bundling: ModuleType) -> None:
    strings = PACKAGING / "macos" / "tr.lproj" / "InfoPlist.strings"
    with strings.open("rb") as fh:
        turkish = plistlib.load(fh)  # any plist format is a valid .strings file
    info = bundling.info_plist("1.0.0")
    descriptions = {key for key in info if key.endswith("UsageDescription")}
    assert descriptions and descriptions <= turkish.keys() <= info.keys()
    for key, text in turkish.items():
        assert isinstance(text, str) and text.strip() and text != info[key]
    assert "tr" in info["CFBundleLocalizations"]
    # Contents/Resources/tr.lproj/InfoPlist.strings: where macOS looks for it.
    assert bundling.macos_localizations() == [(str(strings), "tr.lproj")]
    assert bundling.keep("tr.lproj/InfoPlist.strings")
    spec = (PACKAGING / "bulutpop.spec").read_text(encoding="utf-8")
    assert re.search(
        r'if sys.platform == "darwin":\n    datas \+= bundling.macos_localizations\(\)', spec
    )


def test_the_macos_build_is_windowed() -> None:
    spec = (PACKAGING / "bulutpop.spec").read_text(encoding="utf-8")
    assert 'console=sys.platform not in ("win32", "darwin")' in spec
    assert "argv_emulation=False" in spec  # links arrive as events (QFileOpenEvent)


# -- Linux ---------------------------------------------------------------------------------


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_desktop_entry_handles_tel_and_callto() -> None:
    entry = _desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["MimeType"] == "x-scheme-handler/tel;x-scheme-handler/callto;"
    # %u: the desktop passes the clicked link as one argument (bulutpop.cli hands
    # a tel:/callto: first argument to the running instance).
    assert entry["Exec"] == "bulutpop %u"
    assert entry["Icon"] == "bulutpop"
    assert entry["Terminal"] == "false"
    assert "Telephony" in entry["Categories"].split(";")
    assert entry["Comment[tr]"]


def test_desktop_entry_passes_desktop_file_validate() -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate (Debian: desktop-file-utils) is not installed")
    result = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_metainfo_has_what_appstream_requires(bundling: ModuleType) -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    for tag in (
        "id", "metadata_license", "project_license", "name", "summary", "description",
        "launchable", "content_rating",
    ):  # fmt: skip
        assert root.find(tag) is not None, f"<{tag}> missing"
    assert root.findtext("id") == bundling.APP_ID
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("project_license") == "MIT"  # pyproject.toml's license
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    provided = {m.text for m in root.iterfind("provides/mediatype")}
    assert provided == {"x-scheme-handler/tel", "x-scheme-handler/callto"}
    assert root.findtext("provides/binary") == "bulutpop"
    assert root.find("releases") is None, "the build adds the release from pyproject.toml"


def test_built_metainfo_carries_the_release(bundling: ModuleType, tmp_path: Path) -> None:
    data = bundling.metainfo("1.2.3", "2026-11-27")
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<component')
    root = ET.fromstring(data)
    (release,) = root.iterfind("releases/release")
    assert release.attrib == {"version": "1.2.3", "date": "2026-11-27"}
    assert root.findtext("summary") == ET.parse(METAINFO).getroot().findtext("summary")
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli (Debian: appstream) is not installed")
    built = tmp_path / METAINFO.name
    built.write_bytes(data)
    result = subprocess.run(
        [tool, "validate", "--no-net", str(built)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_release_date_honours_source_date_epoch(
    bundling: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795694400")  # 2026-11-26 12:00 UTC
    assert bundling.release_date() == "2026-11-26"


def test_linux_files_beside_the_bundle(bundling: ModuleType, tmp_path: Path) -> None:
    bundling.write_linux_files(tmp_path, "9.8.7")
    share = tmp_path / "share"
    assert (share / "applications" / "bulutpop.desktop").read_bytes() == DESKTOP.read_bytes()
    assert b'version="9.8.7"' in (share / "metainfo" / METAINFO.name).read_bytes()
    sizes = {p.parent.parent.name for p in (share / "icons" / "hicolor").glob("*/apps/*")}
    assert {"16x16", "32x32", "48x48", "64x64", "128x128", "256x256", "scalable"} <= sizes
    assert (tmp_path / "install.sh").stat().st_mode & 0o111


# -- Windows -------------------------------------------------------------------------------


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith((";", "//", "#")):  # comments, preprocessor
            continue
        if re.fullmatch(r"\[\w+\]", line):
            current = line[1:-1]
            sections[current] = []
        elif current:
            sections[current].append(line)
    return sections


def _entries(lines: list[str]) -> list[dict[str, str]]:
    """`Name: "value"; Other: value` lines as dicts (quotes removed, "" unescaped)."""
    entries = []
    for line in lines:
        fields = re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)', line)
        entries.append(
            {k: v.strip()[1:-1].replace('""', '"') if v.startswith('"') else v.strip()
             for k, v in fields}
        )  # fmt: skip
    return entries


def _preprocess(text: str) -> str:
    """Inno Setup's preprocessor, as far as this script uses it: #define NAME "value"."""
    defines = dict(re.findall(r'^#define (\w+) "([^"]*)"$', text, flags=re.M))
    for _ in range(3):  # a define may use another
        for name, value in defines.items():
            text = text.replace("{#" + name + "}", value)
    return text


@pytest.fixture(scope="module")
def iss() -> dict[str, list[str]]:
    return _sections(_preprocess(ISS.read_text(encoding="utf-8")))


def test_installer_is_per_user(iss: dict[str, list[str]]) -> None:
    setup = dict(line.split("=", 1) for line in iss["Setup"])
    assert setup["PrivilegesRequired"] == "lowest"
    assert "PrivilegesRequiredOverridesAllowed" not in setup  # never asks for admin
    assert setup["DefaultDirName"] == r"{autopf}\bulutpop"  # %LOCALAPPDATA%\Programs
    assert setup["AppVersion"] == "{#AppVersion}"  # iscc /DAppVersion=…
    assert setup["ChangesAssociations"] == "yes"
    registry = _entries(iss["Registry"])
    assert registry and {e["Root"] for e in registry} == {"HKCU"}


def test_version_must_be_passed_in() -> None:
    text = ISS.read_text(encoding="utf-8")
    assert re.search(r"#ifndef AppVersion\s+#error", text)
    # The numeric file version only when given (a version like 1.0rc1 is not numeric).
    assert re.search(
        r"#ifdef AppNumericVersion\s+VersionInfoVersion=\{#AppNumericVersion\}\s+#endif", text
    )


@pytest.mark.parametrize("scheme", ["tel", "callto"])
def test_installer_registers_the_link_scheme(iss: dict[str, list[str]], scheme: str) -> None:
    registry = _entries(iss["Registry"])
    key = rf"Software\Classes\{scheme}"
    values = {
        (e["Subkey"], e.get("ValueName", "")): e for e in registry if e["Subkey"].startswith(key)
    }
    assert values[(key, "URL Protocol")]["ValueData"] == ""
    command = values[(key + r"\shell\open\command", "")]
    assert command["ValueData"] == r'"{app}\bulutpop.exe" "%1"'
    # And the registered-application route, for Settings → Default apps.
    assert any(
        e["Subkey"].endswith(r"Capabilities\URLAssociations") and e["ValueName"] == scheme
        for e in registry
    )


@pytest.mark.parametrize("scheme", ["tel", "callto"])
def test_installer_leaves_another_apps_link_handler_alone(
    iss: dict[str, list[str]], scheme: str
) -> None:
    key = rf"Software\Classes\{scheme}"
    entries = [e for e in _entries(iss["Registry"]) if e["Subkey"].startswith(key)]
    assert len(entries) == 4
    for entry in entries:
        # Written only where no other app has a per-user handler (or it is bulutpop's)…
        assert entry["Check"] == f"MayHandleScheme('{scheme}')"
        # …and never deleted wholesale: Inno would remove the key whoever owns it by then.
        assert "uninsdelete" not in entry.get("Flags", "")
    code = _routines(iss)
    # Decided before the first entry creates the key, from the key and its command.
    install = code["procedure CurStepChanged(CurStep: TSetupStep);"]
    assert "CurStep = ssInstall" in install
    assert (
        f"not RegKeyExists(HKCU, 'Software\\Classes\\{scheme}') or HandlesScheme('{scheme}')"
        in install
    )
    handles = code["function HandlesScheme(const Scheme: String): Boolean;"]
    assert (
        "RegQueryStringValue(HKCU, 'Software\\Classes\\' + Scheme + '\\shell\\open\\command'"
        in handles
    )
    assert """'"' + ExpandConstant('{app}\\bulutpop.exe') + '" "%1"'""" in handles
    # Uninstall removes its own values only while the handler is still bulutpop's.
    release = code["procedure ReleaseScheme(const Scheme: String);"]
    assert release.index("if not HandlesScheme(Scheme) then") < release.index("RegDelete")
    assert "RegDeleteKeyIncludingSubkeys" not in "\n".join(iss["Code"])
    assert "RegDeleteKeyIfEmpty(HKCU, Key);" in release
    uninstall = code["procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);"]
    assert f"ReleaseScheme('{scheme}');" in uninstall
    # The ProgID and the capabilities are bulutpop's alone: those go whole.
    progid = [
        e for e in _entries(iss["Registry"]) if e["Subkey"] == r"Software\Classes\bulutpop.url"
    ]
    assert any("uninsdeletekey" in e.get("Flags", "") for e in progid)


def test_start_at_login_is_optional_and_removed_on_uninstall(
    iss: dict[str, list[str]],
) -> None:
    tasks = {e["Name"] for e in _entries(iss["Tasks"])}
    assert "autostart" in tasks
    run = [e for e in _entries(iss["Registry"]) if e["Subkey"].endswith(r"CurrentVersion\Run")]
    written = [e for e in run if e.get("Tasks") == "autostart"]
    assert len(written) == 1
    # The same value name the app's own setting uses (bulutpop/local/autostart.py).
    assert written[0]["ValueName"] == "bulutpop"
    assert written[0]["ValueData"] == r'"{app}\bulutpop.exe"'
    assert any(e["ValueType"] == "none" and "uninsdeletevalue" in e["Flags"] for e in run)
    for entry in _entries(iss["Registry"]):
        assert entry.get("Tasks", "autostart") in tasks


def test_uninstall_asks_before_deleting_user_data(iss: dict[str, list[str]]) -> None:
    code = "\n".join(iss["Code"])
    assert "MsgBox(CustomMessage('DeleteData'), mbConfirmation, MB_YESNO" in code
    assert "UninstallSilent()" in code  # silent uninstalls keep the data
    # platformdirs keeps config, data and cache in %LOCALAPPDATA%\bulutpop\bulutpop.
    assert r"DelTree(ExpandConstant('{localappdata}\bulutpop')" in code
    # Every secret in Credential Manager, through the console program.
    assert "Exec(ExpandConstant('{app}\\bulutpop-cli.exe'), 'key delete --all'" in code
    messages = "\n".join(iss["CustomMessages"])
    assert "en.DeleteData=" in messages and "tr.DeleteData=" in messages
    # Balanced Pascal blocks.
    opened = len(re.findall(r"\bbegin\b", code))
    assert opened == len(re.findall(r"\bend\b[;.]?", code)) and opened > 0


def test_uninstall_asks_and_ends_the_app_only_after_inno_asked_are_you_sure(
    iss: dict[str, list[str]],
) -> None:
    # Inno's uninstaller (Setup.Uninstall.pas, RunSecondPhase): InitializeUninstall, then
    # its own "Are you sure…?" (msgConfirmUninstall), then CurUninstallStepChanged with
    # usAppMutexCheck, the progress form, usUninstall, the removal, usPostUninstall.
    code = _routines(iss)
    assert not [name for name in code if "InitializeUninstall" in name]
    steps = _steps(code["procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);"])
    assert "MsgBox(CustomMessage('DeleteData')" in steps["usAppMutexCheck"]
    assert "taskkill" not in steps["usAppMutexCheck"]
    uninstall = steps["usUninstall"]
    # The app ends (its files are in use) before its command line deletes the secrets,
    # which a taskkill of bulutpop.exe and bulutpop-cli.exe afterwards would cut short.
    assert uninstall.index("taskkill.exe") < uninstall.index("'key delete --all'")
    assert "/IM bulutpop.exe /IM bulutpop-cli.exe" in uninstall
    assert uninstall.index("if DeleteUserData then") < uninstall.index("'key delete --all'")
    assert "DeleteUserData" in steps["usPostUninstall"]


def _routines(iss: dict[str, list[str]]) -> dict[str, str]:
    """The [Code] section's procedures and functions by their heading line."""
    routines: dict[str, str] = {}
    heading = ""
    for line in iss["Code"]:
        if re.match(r"(procedure|function) \w+", line):
            heading = line
            routines[heading] = ""
        elif heading:
            routines[heading] += line + "\n"
    return routines


def _steps(body: str) -> dict[str, str]:
    """A CurUninstallStepChanged body split at each `CurUninstallStep = usX` test."""
    parts = re.split(r"CurUninstallStep = (us\w+)", body)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_custom_message_exists_in_both_languages(iss: dict[str, list[str]]) -> None:
    text = ISS.read_text(encoding="utf-8")
    used = set(re.findall(r"\{cm:(\w+)\}", text))
    used |= set(re.findall(r"CustomMessage\('(\w+)'\)", text))
    defined = {line.split("=", 1)[0] for line in iss["CustomMessages"]}
    assert {f"{lang}.{name}" for name in used for lang in ("en", "tr")} <= defined
