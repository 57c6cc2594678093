from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication

from bulutpop.ui.common import fmt
from tests.ui.conftest import ts

NOW = datetime(2026, 11, 27, 15, 0)


@pytest.fixture
def turkish(qapp: QApplication) -> Iterator[None]:
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.Turkish))
    yield
    QLocale.setDefault(previous)


def test_when_reads_like_an_office_worker_would(turkish: None) -> None:
    assert fmt.when(ts(2026, 11, 27, 14, 32), NOW) == "14:32"
    assert fmt.when(ts(2026, 11, 26, 9, 10), NOW) == "yesterday 09:10"  # translated: "dün"
    assert fmt.when(ts(2026, 11, 12, 8, 0), NOW) == "12 Kas"
    assert fmt.when(ts(2025, 11, 12, 8, 0), NOW) == "12.11.2025"
    assert fmt.when(None) == ""


def test_ago_and_durations(qapp: QApplication) -> None:
    assert fmt.ago(ts(2026, 11, 27, 14, 59, 30), NOW) == "just now"
    assert fmt.ago(ts(2026, 11, 27, 14, 55), NOW) == "5 min ago"
    assert fmt.ago(ts(2026, 11, 27, 9, 0), NOW) == "09:00"
    assert fmt.duration(72) == "01:12" and fmt.duration(3723) == "1:02:03"
    assert fmt.duration(None) == "" and fmt.full(None) == ""
