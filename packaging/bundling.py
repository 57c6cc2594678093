"""What goes into the PyInstaller bundle, and the platform files generated around it.

Used by ``bulutpop.spec`` (PyInstaller imports it from this folder) and by
``tests/packaging``, which load it by path: this folder must never become a package, or it
would shadow the ``packaging`` library that pip and pytest import.

Nothing here imports PyInstaller at module level, so the rules can be tested without it.
"""

from __future__ import annotations

import fnmatch
import os
import plistlib
import re
import shutil
import struct
import subprocess
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

APP_NAME = "bulutpop"
APP_ID = "io.github.bulutpop"  # AppStream component id, macOS bundle identifier
DESKTOP_FILE = "bulutpop.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"
LANGUAGES = ("tr", "en")  # bulutpop.ui.i18n.LANGUAGES

# Python modules that are never imported. Qt binding modules are listed so that nothing
# pulls their libraries in by a hidden import (QtMultimedia's hook adds
# QtMultimediaWidgets; qasync probes for other bindings).
_UNUSED_QT_MODULES = """
    Qt3DAnimation Qt3DCore Qt3DExtras Qt3DInput Qt3DLogic Qt3DRender QtAxContainer
    QtBluetooth QtCharts QtConcurrent QtDBus QtDataVisualization QtDesigner QtGraphs
    QtGraphsWidgets QtHelp QtHttpServer QtLocation QtMultimediaWidgets QtNetworkAuth QtNfc
    QtOpenGL QtOpenGLWidgets QtPdf QtPdfWidgets QtPositioning QtPrintSupport QtQml QtQuick
    QtQuick3D QtQuickControls2 QtQuickTest QtQuickWidgets QtRemoteObjects QtScxml QtSensors
    QtSerialBus QtSerialPort QtSpatialAudio QtSql QtStateMachine QtSvgWidgets QtTest
    QtTextToSpeech QtUiTools QtWebChannel QtWebEngineCore QtWebEngineQuick QtWebEngineWidgets
    QtWebSockets QtWebView QtXml
"""
EXCLUDED_MODULES = [
    "tkinter",
    "_tkinter",
    "PyQt5",
    "PyQt6",
    "PySide2",
    *(f"PySide6.{name}" for name in _UNUSED_QT_MODULES.split()),
]

# Modules no import statement reaches. tzdata: zoneinfo falls back to it where the system
# has no time-zone database (Windows always, for which PyInstaller's zoneinfo hook adds it
# too; Linux and macOS rarely: minimal systems), and bulutpop reads the PBX's stamps in
# Europe/Istanbul. Bundled on every platform (605 files, 0.6 MB, 0.17 MB in the tar.gz),
# so that no bundle depends on the system for it; the system's zones still come first.
HIDDEN_IMPORTS = ["tzdata"]

# Qt libraries only reached through the plugins or modules left out below: Qt6X.so.6 on
# Linux, Qt6X.dll on Windows, QtX.framework on macOS.
#
# Not here on purpose: Quick, Qml, QmlModels, QmlMeta, QmlWorkerScript and OpenGL. The
# FFmpeg multimedia plugin (the only QtMultimedia backend in the wheels, needed by
# QSoundEffect and QMediaPlayer) links against them.
DROPPED_QT_LIBRARIES = [
    "VirtualKeyboard",
    "Pdf",
    "MultimediaWidgets",
    "EglFS",
    "EglFs",
    "WebEngine",
    "WebChannel",
    "Quick3D",
    "QuickControls2",
    "QuickTemplates2",
    "QuickDialogs2",
    "QuickLayouts",
    "Charts",
    "DataVisualization",
    "Bluetooth",
    "Designer",
]

# Files (bundle-relative destination, fnmatch patterns, where * also spans folders) left
# out of the bundle. The app uses QtCore, QtGui, QtWidgets, QtNetwork, QtSvg and
# QtMultimedia. Plugins live in PySide6/Qt/plugins (Linux, macOS) or PySide6/plugins
# (Windows), hence the leading */.
DROPPED = [
    *(f"*Qt6{name}*" for name in DROPPED_QT_LIBRARIES),
    *(f"*Qt{name}*.framework*" for name in DROPPED_QT_LIBRARIES),
    "*QtWebEngineProcess*",
    # QML modules and their tooling.
    "*/qml/*",
    "*/plugins/qmltooling/*",
    "*/plugins/qmllint/*",
    # An on-screen keyboard for kiosks; it loads Qt Quick and QML at start.
    "*/plugins/platforminputcontexts/*virtualkeyboard*",
    # Renders PDF files as images.
    "*/plugins/imageformats/*qpdf*",
    # Image formats nothing here reads (icons are SVG and PNG; PNG is built into QtGui).
    "*/plugins/imageformats/*qtiff*",
    "*/plugins/imageformats/*qwebp*",
    "*/plugins/imageformats/*qtga*",
    "*/plugins/imageformats/*qwbmp*",
    "*/plugins/imageformats/*qicns*",
    # Embedded-device platforms and their input drivers; desktops use xcb or wayland
    # (Linux), cocoa (macOS), windows; "offscreen" stays for CI and headless checks.
    "*/plugins/platforms/*qeglfs*",
    "*/plugins/platforms/*qlinuxfb*",
    "*/plugins/platforms/*qminimal*",
    "*/plugins/platforms/*qvnc*",
    "*/plugins/platforms/*qvkkhrdisplay*",
    "*/plugins/platforms/*qdirect2d*",
    "*/plugins/egldeviceintegrations/*",
    "*/plugins/generic/*",
    # The GTK 3 platform theme would bring the build machine's whole GTK stack (GTK, GDK,
    # Pango, Cairo, ATK, about 20 MB) into the bundle, where it can clash with the user's
    # GTK modules and themes. Qt's own style and the XDG desktop portal theme remain.
    "*/plugins/platformthemes/*qgtk3*",
    # QNetworkInformation backends (the app talks HTTP through aiohttp).
    "*/plugins/networkinformation/*",
]

# Qt's own translations: only the catalogues Translations.apply loads, in our languages.
_QT_TRANSLATION = re.compile(r"(?:^|/)PySide6/(?:Qt/)?translations/([a-z_]+?)_([a-zA-Z_]+)\.qm$")
_QT_CATALOGUES = ("qt", "qtbase", "qtmultimedia")


def project_version(root: Path = ROOT) -> str:
    """The one version of bulutpop: ``[project] version`` in pyproject.toml."""
    with (root / "pyproject.toml").open("rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    if not isinstance(version, str) or not re.match(r"\d+(\.\d+)*", version):
        raise ValueError(f"pyproject.toml: unusable version {version!r}")
    return version


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """The leading numbers of a version, as Windows' four-part file version."""
    release = re.match(r"\d+(\.\d+)*", version)  # "1.2.0rc1" → 1.2.0
    if release is None:
        raise ValueError(f"unusable version {version!r}")
    numbers = [int(n) for n in release.group().split(".")[:4]]
    numbers += [0] * (4 - len(numbers))
    return (numbers[0], numbers[1], numbers[2], numbers[3])


def keep(dest: str) -> bool:
    """Whether a file (by its destination inside the bundle) belongs in the bundle."""
    dest = dest.replace("\\", "/")
    if any(fnmatch.fnmatchcase(dest, pattern) for pattern in DROPPED):
        return False
    match = _QT_TRANSLATION.search(dest)
    if match:
        catalogue, language = match.groups()
        return catalogue in _QT_CATALOGUES and language in LANGUAGES
    return True


def data_files(root: Path = ROOT) -> list[tuple[str, str]]:
    """(source, destination folder) pairs for Analysis(datas=…): what bulutpop reads at run
    time. The package data pyproject.toml declares, at the place a wheel installs it
    (``resources/`` becomes ``bulutpop/resources/``), where ``bulutpop.ui.assets`` and
    ``bulutpop.devtools.replay`` find it with ``importlib.resources``."""
    pairs = []
    for pattern, dest in (
        ("resources/icons/*.svg", "bulutpop/resources/icons"),
        ("resources/sounds/*", "bulutpop/resources/sounds"),
        ("resources/i18n/*.qm", "bulutpop/resources/i18n"),
        ("bulutpop/devtools/scenarios/*.form", "bulutpop/devtools/scenarios"),
        ("bulutpop/devtools/scenarios/README.md", "bulutpop/devtools/scenarios"),
    ):
        pairs += [(str(path), dest) for path in sorted(root.glob(pattern)) if path.is_file()]
    return pairs


def check_translations(root: Path = ROOT) -> None:
    """Stop when a translation source has no compiled catalogue (scripts/translations
    compiles them and checks they are current)."""
    for source in sorted((root / "resources" / "i18n").glob("*.ts")):
        compiled = source.with_suffix(".qm")
        if not compiled.exists():
            raise SystemExit(f"{compiled} is missing: run scripts/translations")


# -- pruning libraries on Linux ----------------------------------------------------------

TocEntry = tuple[str, str, str]


def prune_unreferenced(
    binaries: Iterable[TocEntry], imports: Callable[[str], Iterable[str]], site: str
) -> tuple[list[TocEntry], list[str]]:
    """Drop the system libraries that only dropped plugins needed.

    PyInstaller resolves every plugin's libraries before the spec can drop the plugin, so
    dropping, say, the GTK theme plugin leaves GTK behind. A shared library collected from
    outside ``site`` (the environment's site-packages: Qt, PySide6, the wheels' own) is
    kept only when a kept binary still needs it; Python's extension modules and libpython
    always stay. ``imports(path)`` names every library that ``path`` needs, directly or
    not (PyInstaller's ``bindepend.get_imports``, which asks ldd on Linux).
    Returns the kept entries and the names dropped.
    """
    entries = list(binaries)
    names: dict[str, set[str]] = {}

    def needs(src: str) -> set[str]:
        if src not in names:
            names[src] = {os.path.basename(name) for name in imports(src)}
        return names[src]

    def prunable(dest: str, src: str, kind: str) -> bool:
        python = os.path.basename(dest).startswith("libpython")
        return kind == "BINARY" and _outside(src, site) and not python

    needed: set[str] = set()
    for dest, src, kind in entries:
        if kind != "SYMLINK" and not prunable(dest, src, kind):
            needed |= needs(src)
    # A system library that needs another one (libpulse → libpulsecommon) passes it on.
    changed = True
    while changed:
        changed = False
        for dest, src, kind in entries:
            if prunable(dest, src, kind) and os.path.basename(dest) in needed:
                more = needs(src) - needed
                if more:
                    needed |= more
                    changed = True
    kept, dropped = [], []
    for entry in entries:
        if prunable(*entry) and os.path.basename(entry[0]) not in needed:
            dropped.append(entry[0])
        else:
            kept.append(entry)
    return kept, dropped


def _outside(src: str, site: str) -> bool:
    site = os.path.normcase(os.path.abspath(site))
    return not os.path.normcase(os.path.abspath(src)).startswith(site + os.sep)


def has_debug_info(path: str) -> bool:
    """Whether an ELF file carries a .debug_info section (64-bit little-endian only)."""
    with open(path, "rb") as fh:
        header = fh.read(64)
        if header[:6] != b"\x7fELF\x02\x01":
            return False
        shoff = struct.unpack_from("<Q", header, 0x28)[0]
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", header, 0x3A)
        fh.seek(shoff)
        table = fh.read(shentsize * shnum)
        if len(table) < shentsize * shnum or shstrndx >= shnum:
            return False
        sections = [struct.unpack_from("<IIQQQQ", table, i * shentsize) for i in range(shnum)]
        names_offset, names_size = sections[shstrndx][4], sections[shstrndx][5]
        fh.seek(names_offset)
        names = fh.read(names_size)
    return any(names[s[0] :].startswith(b".debug_info\0") for s in sections)


def strip_debug_info(
    binaries: Iterable[TocEntry], site: str, workdir: Path
) -> tuple[list[TocEntry], list[str]]:
    """Point entries with debug symbols at copies without them (``strip --strip-debug``).

    Only files from outside ``site`` are touched: Python built from source (pyenv) brings
    libpython and its extension modules with symbols (23 MB of libpython's 28). The
    wheels' libraries are never stripped: they were relinked with patchelf, and binutils'
    strip makes FFmpeg's unloadable ("ELF load command address/offset not page-aligned"),
    which silently leaves QtMultimedia without a backend.
    """
    kept, stripped = [], []
    tool = shutil.which("strip")
    for dest, src, kind in binaries:
        if tool and kind != "SYMLINK" and _outside(src, site) and has_debug_info(src):
            copy = workdir / "stripped" / dest
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, copy)
            subprocess.run([tool, "--strip-debug", str(copy)], check=True)
            kept.append((dest, str(copy), kind))
            stripped.append(dest)
        else:
            kept.append((dest, src, kind))
    return kept, stripped


# -- macOS -------------------------------------------------------------------------------


def info_plist(version: str, here: Path = HERE) -> dict[str, object]:
    """The Info.plist keys of bulutpop.app: packaging/macos/Info.plist with the version."""
    with (here / "macos" / "Info.plist").open("rb") as fh:
        info = plistlib.load(fh)
    info["CFBundleShortVersionString"] = version
    info["CFBundleVersion"] = ".".join(str(n) for n in numeric_version(version)[:3])
    return dict(info)


def macos_localizations(here: Path = HERE) -> list[tuple[str, str]]:
    """(source, destination folder) pairs for Analysis(datas=…): the translated Info.plist
    values (``packaging/macos/*.lproj/InfoPlist.strings``). BUNDLE puts data files into
    ``Contents/Resources``, where macOS looks for them."""
    return [
        (str(path), path.parent.name)
        for path in sorted((here / "macos").glob("*.lproj/InfoPlist.strings"))
    ]


def write_icns(pngs: dict[int, Path], dest: Path) -> Path:
    """A macOS .icns that wraps PNG images (the format has held PNGs since 10.7)."""
    types = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}
    chunks = b""
    for size, path in sorted(pngs.items()):
        if size in types:
            data = path.read_bytes()
            chunks += types[size] + struct.pack(">I", len(data) + 8) + data
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(b"icns" + struct.pack(">I", len(chunks) + 8) + chunks)
    return dest


# -- Windows -----------------------------------------------------------------------------


def write_ico(pngs: dict[int, Path], dest: Path) -> Path:
    """A Windows .ico that wraps PNG images (read by Windows since Vista)."""
    images = [(size, path.read_bytes()) for size, path in sorted(pngs.items()) if size <= 256]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    directory, blobs = b"", b""
    for size, data in images:
        side = 0 if size >= 256 else size  # 0 means 256
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(header + directory + blobs)
    return dest


def windows_version_text(version: str) -> str:
    """A PyInstaller version-info file: the version Explorer shows in the file's details."""
    numbers = numeric_version(version)
    strings = {
        "CompanyName": "bulutpop",
        "FileDescription": "bulutpop: Bulutsantralim desktop companion",
        "FileVersion": version,
        "InternalName": APP_NAME,
        "OriginalFilename": f"{APP_NAME}.exe",
        "ProductName": APP_NAME,
        "ProductVersion": version,
    }
    items = ",\n          ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}, mask=0x3f, flags=0x0,
                    OS=0x40004, fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([
      StringTable('040904B0', [
          {items}])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


# -- Linux -------------------------------------------------------------------------------


def icon_pngs(root: Path = ROOT) -> dict[int, Path]:
    """The rendered app icon by size (scripts/render_icons.py writes them)."""
    pngs = {}
    for path in (root / "resources" / "icons" / "hicolor").glob("*x*/apps/bulutpop.png"):
        width, _, height = path.parent.parent.name.partition("x")
        if width == height and width.isdigit():
            pngs[int(width)] = path
    return pngs


def metainfo(version: str, date: str, here: Path = HERE) -> bytes:
    """The AppStream file with this release added (the source file holds no version)."""
    tree = ET.parse(here / "linux" / METAINFO_FILE)
    component = tree.getroot()
    releases = component.find("releases")
    if releases is None:
        releases = ET.SubElement(component, "releases")
    release = ET.Element("release", {"version": version, "date": date})
    releases.insert(0, release)
    ET.indent(tree, space="  ")
    body = ET.tostring(component, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def release_date() -> str:
    """SOURCE_DATE_EPOCH (reproducible builds) or today, as YYYY-MM-DD."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = int(epoch) if epoch and epoch.isdigit() else time.time()
    return time.strftime("%Y-%m-%d", time.gmtime(moment))


def write_linux_files(bundle: Path, version: str, root: Path = ROOT, here: Path = HERE) -> None:
    """Put the desktop integration beside the app: ``install.sh`` and a ``share/`` tree
    (desktop entry, AppStream metainfo, hicolor icons) that install.sh copies into the
    user's ``~/.local/share``."""
    share = bundle / "share"
    if share.exists():
        shutil.rmtree(share)
    (share / "applications").mkdir(parents=True)
    shutil.copyfile(here / "linux" / DESKTOP_FILE, share / "applications" / DESKTOP_FILE)
    (share / "metainfo").mkdir()
    (share / "metainfo" / METAINFO_FILE).write_bytes(metainfo(version, release_date(), here))
    icons = share / "icons" / "hicolor"
    for size, png in icon_pngs(root).items():
        target = icons / f"{size}x{size}" / "apps" / f"{APP_NAME}.png"
        target.parent.mkdir(parents=True)
        shutil.copyfile(png, target)
    (icons / "scalable" / "apps").mkdir(parents=True)
    shutil.copyfile(
        root / "resources" / "icons" / f"{APP_NAME}.svg",
        icons / "scalable" / "apps" / f"{APP_NAME}.svg",
    )
    installer = bundle / "install.sh"
    shutil.copyfile(here / "linux" / "install.sh", installer)
    installer.chmod(0o755)
