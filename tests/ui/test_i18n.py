"""The Turkish interface: real widgets read Turkish with the catalogue installed, and the
catalogues are complete (a string added to bulutpop/ui without a Turkish translation fails
here, as it fails `scripts/translations --check`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QRect, Qt, QTranslator
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from bulutpop.errors import KeyringUnavailable
from bulutpop.ui import assets, i18n
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.dial import DialDialog
from bulutpop.ui.missed.model import Column
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.settings.dialog import SettingsDialog
from tests.conftest import scenario
from tests.ui.conftest import Loop, Webhook, make_shell, ts

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "resources" / "i18n"
NOW = datetime(2026, 11, 27, 15, 0)
PLACEHOLDER = re.compile(r"%(?:L?[1-9][0-9]?|L?n)|\{[a-z0-9_]+\}")


# --- widgets in Turkish -------------------------------------------------------------------


def test_tray_menu_and_tooltip_in_turkish(
    turkish: i18n.Translations, qtbot: QtBot, bridge: CoreBridge, webhook: Webhook
) -> None:
    tray = make_shell(bridge, use_tray=True)
    assert tray.tooltip.splitlines()[0] == "bulutpop — Aramalar bekleniyor"
    webhook.post(*scenario("02"))
    assert tray.tooltip.splitlines()[0] == "bulutpop — 1 cevapsız çağrı"
    labels = [entry[0] for entry in tray.entries() if entry is not None]
    assert labels[0] == "Cevapsız çağrılar (1)" and labels[-1] == "Çıkış"
    assert {"Arama geçmişi", "Ara…", "Ayarlar", "Hakkında"} <= set(labels)
    tray._menu.aboutToShow.emit()
    menu = [action.text() for action in tray._menu.actions() if not action.isSeparator()]
    assert {"Açılır pencereleri duraklat", "Rahatsız etme"} <= set(menu)
    tray.close()


def test_fallback_window_buttons_in_turkish(
    turkish: i18n.Translations, qtbot: QtBot, bridge: CoreBridge, webhook: Webhook
) -> None:
    shell = make_shell(bridge, use_tray=False)
    window = shell.window
    assert window is not None
    webhook.post(*scenario("02"))
    assert window.buttons[0].text() == "Cevapsız çağrılar (1)"
    assert "1 cevapsız çağrı" in window.state.text()
    shell.close()


def test_missed_window_in_turkish(
    turkish: i18n.Translations,
    qtbot: QtBot,
    qloop: Loop,
    bridge: CoreBridge,
    webhook: Webhook,
) -> None:
    window = MissedWindow(bridge)
    qtbot.addWidget(window)
    assert window.windowTitle() == "Cevapsız çağrılar (0)"
    assert window.is_empty()
    assert window.show_resolved.text() == "Çözülenleri göster"
    webhook.post(*scenario("02"))
    qloop.run(window.model.settled())
    assert window.windowTitle() == "Cevapsız çağrılar (1)"
    assert window.title.text() == "Cevapsız çağrılar (1)"
    header = {
        column: window.model.headerData(column, Qt.Orientation.Horizontal) for column in Column
    }
    assert (header[Column.CALLER], header[Column.LAST], header[Column.QUEUE]) == (
        "Arayan",
        "Son arama",
        "Kuyruk",
    )
    row = window.model.index(0, Column.ACTIONS)
    labels = [button.text for button in window.actions_delegate.buttons(QRect(), row)]
    assert labels == ["Geri ara", "Tamamla", "Kopyala"]
    assert window.call_action.text() == "Geri ara"
    qloop.run(window.tasks.drain())


def test_dial_dialog_in_turkish(
    turkish: i18n.Translations, qtbot: QtBot, bridge: CoreBridge
) -> None:
    dialog = DialDialog(bridge)
    qtbot.addWidget(dialog)
    assert dialog.call_button.text() == "Ara"
    assert dialog.cancel_button.text() == "İptal"
    assert dialog.hint.text() == "Önce telefonunuz (dahili 1001) çalar."
    dialog.set_number("1001")
    assert dialog.status.text() == "Aranacak: dahili 1001"
    dialog.set_number("12ab")
    assert dialog.status.text().startswith("Bu bir telefon numarası değil.")


def test_settings_wizard_in_turkish(
    turkish: i18n.Translations, qtbot: QtBot, qloop: Loop, bridge: CoreBridge, tmp_path: Path
) -> None:
    dialog = SettingsDialog(
        bridge, first_run=True, autostart_platform="linux", autostart_base=tmp_path
    )
    qtbot.addWidget(dialog)
    qloop.run(dialog.tasks.drain())
    assert dialog.windowTitle() == "bulutpop kurulumu"
    assert dialog.step_label.text() == "Adım 1 / 4"  # a key is set: the own connection
    assert dialog.title_label.text() == "bulutpop'a hoş geldiniz"
    assert (dialog.cancel_button.text(), dialog.next_button.text()) == ("İptal", "İleri")
    dialog.tasks.cancel()
    qloop.run(dialog.tasks.drain())


def test_times_and_errors_in_turkish(turkish: i18n.Translations) -> None:
    assert fmt.when(ts(2026, 11, 26, 9, 10), NOW) == "dün 09:10"
    assert fmt.when(ts(2026, 11, 12, 8, 0), NOW) == "12 Kas"
    assert fmt.ago(ts(2026, 11, 27, 14, 59, 30), NOW) == "az önce"
    assert fmt.ago(ts(2026, 11, 27, 14, 55), NOW) == "5 dk önce"
    assert describe_error(RuntimeError("boom")) == "Bir sorun oluştu: boom"


def missed_calls(n: int) -> str:
    return QCoreApplication.translate("Shell", "%n missed call(s)", "", n)


def test_plural_forms_in_turkish(turkish: i18n.Translations) -> None:
    assert (missed_calls(1), missed_calls(3)) == ("1 cevapsız çağrı", "3 cevapsız çağrı")


def test_plural_forms_in_english(qapp: QApplication) -> None:
    # English installs bulutpop_en.qm for its plural forms only.
    english = QTranslator()
    assert english.load(str(assets.path("i18n", "bulutpop_en.qm")))
    assert english.translate("Shell", "Quit") == ""  # other source text serves as is
    qapp.installTranslator(english)
    try:
        assert (missed_calls(1), missed_calls(2)) == ("1 missed call", "2 missed calls")
    finally:
        qapp.removeTranslator(english)


def test_back_to_english(qapp: QApplication) -> None:
    previous = QLocale()
    translations = i18n.Translations()
    translations.apply("tr")
    assert QCoreApplication.translate("Shell", "Quit") == "Çıkış"
    assert translations.apply("en") == "en"
    QLocale.setDefault(previous)
    assert QCoreApplication.translate("Shell", "Quit") == "Quit"
    assert fmt.when(ts(2026, 11, 26, 9, 10), NOW) == "yesterday 09:10"


def test_resolve() -> None:
    assert i18n.resolve("tr") == "tr"
    assert i18n.resolve("en") == "en"
    # "system" follows QLocale.system(), which tests cannot switch; only its range is fixed.
    assert i18n.resolve("system") in i18n.LANGUAGES


# --- the catalogues -----------------------------------------------------------------------


def messages(path: Path) -> Iterator[tuple[str, ET.Element]]:
    for context in ET.parse(path).getroot().iter("context"):
        for message in context.iter("message"):
            yield context.findtext("name", ""), message


def forms(message: ET.Element) -> list[str]:
    translation = message.find("translation")
    if translation is None:
        return []
    if message.get("numerus") == "yes":
        return [form.text or "" for form in translation.iter("numerusform")]
    return [translation.text or ""]


def test_every_turkish_message_is_translated() -> None:
    problems = []
    count = 0
    for context, message in messages(I18N / "bulutpop_tr.ts"):
        count += 1
        source = message.findtext("source", "")
        translation = message.find("translation")
        label = f"[{context}] {source!r}"
        if translation is None:
            problems.append(f"{label}: no translation element")
            continue
        if translation.get("type") in ("unfinished", "obsolete", "vanished"):
            problems.append(f"{label}: {translation.get('type')}")
            continue
        for text in forms(message):
            if not text.strip():
                problems.append(f"{label}: empty")
            elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
                problems.append(f"{label}: placeholders differ in {text!r}")
            elif text.replace("&&", "").count("&") != source.replace("&&", "").count("&"):
                problems.append(f"{label}: accelerator differs in {text!r}")
            elif "…" in source and "…" not in text:
                problems.append(f"{label}: lost its … in {text!r}")
    assert count > 200
    assert not problems, "\n".join(problems)


def test_english_plurals_have_both_forms() -> None:
    plural = [
        (context, message)
        for context, message in messages(I18N / "bulutpop_en.ts")
        if message.get("numerus") == "yes"
    ]
    assert plural
    for context, message in plural:
        texts = forms(message)
        source = message.findtext("source")
        assert len(texts) == 2 and all(texts), (context, source)
        translation = message.find("translation")
        assert translation is not None and translation.get("type") is None, (context, source)


LUPDATE = Path(sys.executable).with_name("pyside6-lupdate")


@pytest.mark.skipif(
    not LUPDATE.exists() or shutil.which("bash") is None, reason="needs pyside6-lupdate"
)
def test_catalogues_cover_the_code_and_are_compiled() -> None:
    """New strings in bulutpop/ui are in the .ts, translated, and the .qm files are fresh."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "translations"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_keyring_errors_name_this_systems_keyring(qapp: QApplication) -> None:
    windows = KeyringUnavailable("unavailable", "API key", "BULUTPOP_API_KEY", system="windows")
    assert describe_error(windows).startswith("Windows Credential Manager cannot be reached")
    locked = KeyringUnavailable("locked", "API key", "BULUTPOP_API_KEY", system="macos")
    assert "Keychain Access" in describe_error(locked)
    linux = KeyringUnavailable("unavailable", "team secret", "BULUTPOP_TEAM_SECRET")
    assert "GNOME Keyring" in describe_error(linux) and "team secret" in describe_error(linux)


def test_keyring_errors_in_turkish(turkish: i18n.Translations) -> None:
    windows = KeyringUnavailable("unavailable", "API key", "BULUTPOP_API_KEY", system="windows")
    assert describe_error(windows).startswith("Windows Kimlik Bilgileri Yöneticisi'ne")
