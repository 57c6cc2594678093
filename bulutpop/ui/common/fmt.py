"""Times and durations as Turkish office workers read them, through Qt's translations."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QCoreApplication, QDateTime, QLocale


def when(ts: float | None, now: datetime | None = None) -> str:
    """Today "14:32", yesterday "dün 09:10", this year "12 Kas", before "12.11.2025"."""
    if ts is None:
        return ""
    moment = datetime.fromtimestamp(ts)
    now = now or datetime.now()
    clock = moment.strftime("%H:%M")
    if moment.date() == now.date():
        return clock
    if moment.date() == (now - timedelta(days=1)).date():
        return QCoreApplication.translate("fmt", "yesterday %1").replace("%1", clock)
    locale = QLocale()
    if moment.year == now.year:
        month = locale.monthName(moment.month, QLocale.FormatType.ShortFormat)
        return f"{moment.day} {month}"
    return moment.strftime("%d.%m.%Y")


def ago(ts: float | None, now: datetime | None = None) -> str:
    """Under an hour "az önce" / "5 dk önce", older ones as `when` shows them."""
    if ts is None:
        return ""
    now = now or datetime.now()
    seconds = (now - datetime.fromtimestamp(ts)).total_seconds()
    if seconds < 60:
        return QCoreApplication.translate("fmt", "just now")
    if seconds < 3600:
        return QCoreApplication.translate("fmt", "%1 min ago").replace(
            "%1", str(int(seconds // 60))
        )
    return when(ts, now)


def full(ts: float | None) -> str:
    """27.11.2026 14:32 in local time."""
    if ts is None:
        return ""
    return QDateTime.fromSecsSinceEpoch(int(ts)).toString("dd.MM.yyyy HH:mm")


def duration(seconds: float | None) -> str:
    """01:12, or 1:02:03 past an hour."""
    if seconds is None or seconds < 0:
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
