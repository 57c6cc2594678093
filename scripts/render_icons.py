"""Render the app icon SVG to the PNG sizes desktops and packagers ask for.

    python scripts/render_icons.py                # resources/icons/hicolor/<N>x<N>/apps/*.png
    python scripts/render_icons.py --sheet x.png  # and a preview of every icon at tray sizes

Runs headless (``QT_QPA_PLATFORM=offscreen`` unless already set); needs only PySide6's QtSvg.
The preview sheet shows each SVG at 16, 22, 32 and 48 px (magnified 4x without smoothing, so
the real pixels are visible) and at 128 px, on a light and on a dark panel.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
APP_ICON = ICONS / "bulutpop.svg"
SIZES = (16, 32, 48, 64, 128, 256)
SHEET_SIZES = (16, 22, 32, 48)
SHEET_ZOOM = 4
PANELS = ("#F2F2F2", "#2B2B2B")


def load(svg: Path) -> QSvgRenderer:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG for Qt")
    return renderer


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def write_hicolor(svg: Path = APP_ICON, root: Path = ICONS / "hicolor") -> list[Path]:
    renderer = load(svg)
    written = []
    for size in SIZES:
        target = root / f"{size}x{size}" / "apps" / f"{svg.stem}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not render(renderer, size).save(str(target)):
            raise SystemExit(f"could not write {target}")
        written.append(target)
    return written


def write_sheet(svgs: list[Path], target: Path) -> None:
    row_height = max(SHEET_SIZES) * SHEET_ZOOM + 20
    panel_width = sum(s * SHEET_ZOOM + 10 for s in SHEET_SIZES) + 128 + 20
    sheet = QImage(panel_width * len(PANELS), row_height * len(svgs), QImage.Format.Format_RGB32)
    sheet.fill(QColor("#888888"))
    painter = QPainter(sheet)
    for row, svg in enumerate(svgs):
        renderer = load(svg)
        top = row * row_height
        for column, panel in enumerate(PANELS):
            left = column * panel_width
            painter.fillRect(left, top, panel_width - 4, row_height - 4, QColor(panel))
            x = left + 5
            for size in SHEET_SIZES:
                zoomed = render(renderer, size).scaled(
                    size * SHEET_ZOOM,
                    size * SHEET_ZOOM,
                    Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
                painter.drawImage(QPoint(x, top + 5), zoomed)
                x += size * SHEET_ZOOM + 10
            painter.drawImage(QPoint(x, top + 5), render(renderer, 128))
    painter.end()
    if not sheet.save(str(target)):
        raise SystemExit(f"could not write {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", type=Path, help="also write a preview of every icon here")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the app is created
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for path in write_hicolor():
        print(path.relative_to(ROOT))
    if args.sheet:
        write_sheet(sorted(ICONS.glob("*.svg")), args.sheet)
        print(args.sheet)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
