"""What packaging/bulutpop.spec puts in the bundle: one version, the Qt the app uses (and
what QtMultimedia's FFmpeg backend needs), resources, icons and version resources."""

from __future__ import annotations

import ast
import re
import struct
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from tests.packaging.conftest import PACKAGING, ROOT

SPEC = PACKAGING / "bulutpop.spec"


def test_the_version_is_pyprojects(bundling: ModuleType) -> None:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    assert bundling.project_version(ROOT) == version
    spec = SPEC.read_text(encoding="utf-8")
    assert "VERSION = bundling.project_version(ROOT)" in spec
    # …and stops when the installed metadata (what `bulutpop --version` prints) differs.
    assert 'importlib.metadata.version("bulutpop")' in spec
    assert "if installed != VERSION" in spec
    for path in (SPEC, *PACKAGING.rglob("*.iss"), *PACKAGING.rglob("*.plist")):
        assert version not in path.read_text(encoding="utf-8"), f"{path} repeats the version"


def test_project_version_reads_any_root(bundling: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2.3.4"\n')
    assert bundling.project_version(tmp_path) == "2.3.4"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "soon"\n')
    with pytest.raises(ValueError, match="unusable version 'soon'"):
        bundling.project_version(tmp_path)


@pytest.mark.parametrize(
    ("version", "numbers"),
    [("0.1.0", (0, 1, 0, 0)), ("1.2", (1, 2, 0, 0)), ("1.2.3rc1", (1, 2, 3, 0)),
     ("1.2.3.4.5", (1, 2, 3, 4)), ("2.0.0+local", (2, 0, 0, 0))],
)  # fmt: skip
def test_numeric_version(bundling: ModuleType, version: str, numbers: tuple[int, ...]) -> None:
    assert bundling.numeric_version(version) == numbers


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6WebEngineCore.so.6",
        "PySide6/Qt/lib/libQt6Pdf.so.6",
        "libQt6Pdf.so.6",  # the top-level link PyInstaller makes
        "PySide6/Qt/lib/libQt6VirtualKeyboard.so.6",
        "PySide6/Qt/lib/libQt6Quick3D.so.6",
        "PySide6/Qt/qml/QtQuick/Controls/qmldir",
        "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        "PySide6/Qt/plugins/imageformats/libqpdf.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/translations/qt_help_tr.qm",
        "PySide6/Qt/translations/qtdeclarative_tr.qm",
        r"PySide6\qml\QtQuick\qmldir",  # Windows separators
        r"PySide6\plugins\imageformats\qpdf.dll",
        r"PySide6\Qt6Pdf.dll",
    ],
)
def test_unused_qt_is_left_out(bundling: ModuleType, dest: str) -> None:
    assert not bundling.keep(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Svg.so.6",
        "PySide6/Qt/lib/libQt6Multimedia.so.6",
        # The FFmpeg plugin links Qt Quick, QML and OpenGL: without them, no backend.
        "PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "PySide6/Qt/lib/libQt6QmlModels.so.6",
        "PySide6/Qt/lib/libQt6OpenGL.so.6",
        "PySide6/Qt/lib/libavcodec.so.61",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "PySide6/Qt/translations/qtbase_tr.qm",
        "PySide6/Qt/translations/qtmultimedia_tr.qm",
        "PySide6/Qt/translations/qt_en.qm",
        r"PySide6\plugins\multimedia\ffmpegmediaplugin.dll",
        r"PySide6\plugins\platforms\qwindows.dll",
        r"PySide6\translations\qtbase_tr.qm",
        "bulutpop/resources/sounds/ring.wav",
        "bulutpop/resources/i18n/bulutpop_tr.qm",
    ],
)
def test_what_the_app_uses_stays(bundling: ModuleType, dest: str) -> None:
    assert bundling.keep(dest)


def test_qt_modules_the_app_imports_are_not_excluded(bundling: ModuleType) -> None:
    used = {"QtCore", "QtGui", "QtWidgets", "QtNetwork", "QtSvg", "QtMultimedia"}
    imported = set()
    for path in (ROOT / "bulutpop").rglob("*.py"):
        imported |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    assert imported <= used, f"the app now imports {imported - used}: update bundling.py"
    excluded = {m.removeprefix("PySide6.") for m in bundling.EXCLUDED_MODULES}
    assert not used & excluded
    assert {"QtWebEngineCore", "QtQuick", "QtQml", "Qt3DCore", "QtPdf"} <= excluded


def test_tzdata_is_a_dependency_and_bundled(bundling: ModuleType) -> None:
    # Europe/Istanbul (the PBX's stamps) from zoneinfo on Windows, which has no zone files.
    with (ROOT / "pyproject.toml").open("rb") as fh:
        dependencies = tomllib.load(fh)["project"]["dependencies"]
    assert any(re.match(r"tzdata\b", dependency) for dependency in dependencies)
    assert "tzdata" in bundling.HIDDEN_IMPORTS
    spec = SPEC.read_text(encoding="utf-8")
    assert "hiddenimports=bundling.HIDDEN_IMPORTS" in spec


def test_data_files_are_what_the_app_reads(bundling: ModuleType, tmp_path: Path) -> None:
    pairs = {(Path(src).relative_to(ROOT).as_posix(), dest) for src, dest in bundling.data_files()}
    # Where a wheel installs them: bulutpop.ui.assets finds them through importlib.resources.
    assert ("resources/sounds/ring.wav", "bulutpop/resources/sounds") in pairs
    assert ("resources/icons/bulutpop.svg", "bulutpop/resources/icons") in pairs
    assert ("resources/icons/tray-missed.svg", "bulutpop/resources/icons") in pairs
    assert ("resources/i18n/bulutpop_tr.qm", "bulutpop/resources/i18n") in pairs
    assert (
        "bulutpop/devtools/scenarios/01-inbound-answered.form",
        "bulutpop/devtools/scenarios",
    ) in pairs
    assert not any(src.endswith((".py", ".ts")) for src, _ in pairs)  # build-time sources
    assert not any("hicolor" in src for src, _ in pairs)  # desktop icons: share/, not the app

    # Translations are picked up once they exist.
    (tmp_path / "resources" / "i18n").mkdir(parents=True)
    (tmp_path / "resources" / "i18n" / "bulutpop_tr.qm").write_bytes(b"qm")
    assert bundling.data_files(tmp_path) == [
        (str(tmp_path / "resources" / "i18n" / "bulutpop_tr.qm"), "bulutpop/resources/i18n")
    ]


def test_a_translation_source_without_catalogue_stops_the_build(
    bundling: ModuleType, tmp_path: Path
) -> None:
    i18n = tmp_path / "resources" / "i18n"
    i18n.mkdir(parents=True)
    (i18n / "bulutpop_tr.ts").write_text("<TS/>")
    with pytest.raises(SystemExit, match=r"bulutpop_tr\.qm is missing"):
        bundling.check_translations(tmp_path)
    (i18n / "bulutpop_tr.qm").write_bytes(b"qm")
    bundling.check_translations(tmp_path)


def test_system_libraries_only_dropped_plugins_needed_are_pruned(bundling: ModuleType) -> None:
    site = "/venv/site-packages"
    qt = f"{site}/PySide6/Qt"
    needs = {
        f"{qt}/plugins/platforms/libqxcb.so": ["libxcb.so.1", "libQt6Gui.so.6"],
        f"{qt}/lib/libQt6Gui.so.6": ["libglib-2.0.so.0"],
        f"{site}/PySide6/QtMultimedia.abi3.so": ["libpulse.so.0"],
        "/usr/lib/libpulse.so.0": ["libpulsecommon-16.1.so"],
        "/usr/lib/libgtk-3.so.0": ["libcairo.so.2"],
    }
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", f"{qt}/plugins/platforms/libqxcb.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", f"{qt}/lib/libQt6Gui.so.6", "BINARY"),
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
        ("PySide6/QtMultimedia.abi3.so", f"{site}/PySide6/QtMultimedia.abi3.so", "EXTENSION"),
        ("libxcb.so.1", "/usr/lib/libxcb.so.1", "BINARY"),
        ("libglib-2.0.so.0", "/usr/lib/libglib-2.0.so.0", "BINARY"),
        ("libpulse.so.0", "/usr/lib/libpulse.so.0", "BINARY"),
        ("libpulsecommon-16.1.so", "/usr/lib/pulseaudio/libpulsecommon-16.1.so", "BINARY"),
        # Left behind by the dropped GTK theme plugin:
        ("libgtk-3.so.0", "/usr/lib/libgtk-3.so.0", "BINARY"),
        ("libcairo.so.2", "/usr/lib/libcairo.so.2", "BINARY"),
        # Python's own: needed by the bootloader and the interpreter, never by a library.
        ("libpython3.11.so.1.0", "/opt/python/lib/libpython3.11.so.1.0", "BINARY"),
        ("python3.11/lib-dynload/_ssl.so", "/opt/python/lib-dynload/_ssl.so", "EXTENSION"),
    ]
    kept, dropped = bundling.prune_unreferenced(binaries, lambda p: needs.get(p, []), site)
    assert sorted(dropped) == ["libcairo.so.2", "libgtk-3.so.0"]
    assert [e for e in binaries if e[0] not in dropped] == kept


def _elf(section_names: list[bytes]) -> bytes:
    """A minimal 64-bit little-endian ELF file with these sections (and .shstrtab)."""
    names = b"\0" + b"".join(n + b"\0" for n in [*section_names, b".shstrtab"])
    offsets, at = [], 1
    for name in [*section_names, b".shstrtab"]:
        offsets.append(at)
        at += len(name) + 1
    shoff = 64 + len(names)
    header = b"\x7fELF\x02\x01\x01" + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 0, 0)
    count = len(section_names) + 2  # null section first, .shstrtab last
    header = header[:0x3A] + struct.pack("<HHH", 64, count, count - 1)
    sections = bytes(64)  # the null section
    for offset in offsets[:-1]:
        sections += struct.pack("<IIQQQQIIQQ", offset, 1, 0, 0, 0, 0, 0, 0, 1, 0)
    sections += struct.pack("<IIQQQQIIQQ", offsets[-1], 3, 0, 0, 64, len(names), 0, 0, 1, 0)
    return header + names + sections


def test_debug_info_is_found_in_elf_files(bundling: ModuleType, tmp_path: Path) -> None:
    with_debug = tmp_path / "with.so"
    with_debug.write_bytes(_elf([b".text", b".debug_info", b".debug_line"]))
    stripped = tmp_path / "stripped.so"
    stripped.write_bytes(_elf([b".text", b".debug_infox"]))
    text = tmp_path / "README"
    text.write_text("not an ELF file")
    assert bundling.has_debug_info(str(with_debug))
    assert not bundling.has_debug_info(str(stripped))
    assert not bundling.has_debug_info(str(text))


def test_windows_icon_holds_every_size(bundling: ModuleType, tmp_path: Path) -> None:
    pngs = bundling.icon_pngs()
    assert {16, 32, 48, 256} <= set(pngs)
    data = bundling.write_ico(pngs, tmp_path / "app.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(pngs))
    for i, size in enumerate(sorted(pngs)):
        width, height, _, _, planes, bits, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * i
        )
        assert width == height == size % 256
        assert (planes, bits) == (1, 32)
        assert data[offset : offset + length] == pngs[size].read_bytes()


def test_macos_icon_is_a_well_formed_icns(bundling: ModuleType, tmp_path: Path) -> None:
    data = bundling.write_icns(bundling.icon_pngs(), tmp_path / "app.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack_from(">I", data, 4)[0] == len(data)
    at, kinds = 8, []
    while at < len(data):
        kinds.append(data[at : at + 4])
        length = struct.unpack_from(">I", data, at + 4)[0]
        assert data[at + 8 : at + 16] == b"\x89PNG\r\n\x1a\n"
        at += length
    assert at == len(data)
    assert {b"icp4", b"icp5", b"ic07", b"ic08"} <= set(kinds)


def test_windows_version_resource_is_well_formed(bundling: ModuleType) -> None:
    text = bundling.windows_version_text("1.2.3rc1")
    # PyInstaller evaluates this text with its version-info classes in scope (it cannot
    # load them off Windows: they import win32api).
    tree = ast.parse(text, mode="eval")
    calls = {
        node.func.id: node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert set(calls) == {
        "VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct",
        "VarFileInfo", "VarStruct",
    }  # fmt: skip
    fixed = {k.arg: ast.literal_eval(k.value) for k in calls["FixedFileInfo"].keywords}
    assert fixed["filevers"] == fixed["prodvers"] == (1, 2, 3, 0)
    assert "StringStruct('ProductVersion', '1.2.3rc1')" in text
    assert "StringStruct('OriginalFilename', 'bulutpop.exe')" in text
