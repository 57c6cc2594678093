"""Interface language: Turkish or English, from the system locale or the user's choice."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from bulutpop.ui import assets

LANGUAGES = ("tr", "en")


def resolve(choice: str) -> str:
    """ "system" becomes tr on a Turkish system and en everywhere else."""
    if choice in LANGUAGES:
        return choice
    return "tr" if QLocale.system().language() == QLocale.Language.Turkish else "en"


class Translations:
    """Installs bulutpop's and Qt's own translators; `apply` switches at run time."""

    def __init__(self) -> None:
        self._installed: list[QTranslator] = []
        self.language = "en"

    def apply(self, choice: str) -> str:
        app = QCoreApplication.instance()
        assert app is not None
        for translator in self._installed:
            app.removeTranslator(translator)
        self._installed.clear()
        self.language = resolve(choice)
        QLocale.setDefault(
            QLocale(QLocale.Language.Turkish if self.language == "tr" else QLocale.Language.English)
        )
        # English needs its .qm only for plural forms ("1 missed call" / "2 missed calls").
        qt = QTranslator(app)
        if self.language != "en" and qt.load(
            f"qtbase_{self.language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        ):
            app.installTranslator(qt)
            self._installed.append(qt)
        ours = QTranslator(app)
        if ours.load(str(assets.path("i18n", f"bulutpop_{self.language}.qm"))):
            app.installTranslator(ours)
            self._installed.append(ours)
        return self.language
