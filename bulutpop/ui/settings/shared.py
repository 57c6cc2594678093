"""What the settings dialog's tabs share: `SettingsTab`, the base of each tab (its page, its
fields, what it hides in team mode); a field with its hint and error, the verdict of a check
with its tone, the notice box and the form layout, and saving's failure."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from bulutpop.errors import (
    ConfigError,
)
from bulutpop.local.config import Config
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.tasks import TaskSet

StatusTone = Literal["", "busy", "ok", "warning", "error"]

_TONE_ICONS = {
    "ok": QStyle.StandardPixmap.SP_DialogApplyButton,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
}


def text_label(text: str = "", role: str = "", *, small: bool = False) -> QLabel:
    """Plain, word-wrapped text; `role` picks its look in the dialog's style sheet."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if role:
        label.setProperty("role", role)
    if small:
        font = QFont(label.font())
        font.setPointSizeF(font.pointSizeF() * 0.92)
        label.setFont(font)
    return label


def _restyle(widget: QWidget) -> None:
    # Dynamic properties only take effect in a stylesheet after a re-polish.
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Field(QWidget):
    """One input row with its hint and its error underneath (each hidden while empty)."""

    def __init__(self, *widgets: QWidget, hint: str = "", stretch: bool = True) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        row = QHBoxLayout()
        row.setSpacing(6)
        for widget in widgets:
            row.addWidget(widget)
        if not stretch:
            row.addStretch(1)
        layout.addLayout(row)
        self.error = text_label("", "error", small=True)
        self.error.hide()
        layout.addWidget(self.error)
        self.hint = text_label(hint, "hint", small=True)
        self.hint.setVisible(bool(hint))
        layout.addWidget(self.hint)

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))


class Status(QWidget):
    """The outcome of a check ("Key accepted by the PBX"), with an icon for its tone."""

    def __init__(self) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.icon = QLabel()
        self.icon.setFixedSize(16, 16)
        self.text = text_label()
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        self.show_result("", "")

    def show_result(self, tone: StatusTone, text: str) -> None:
        self.text.setText(text)
        self.text.setProperty("tone", tone)
        _restyle(self.text)
        pixmap = _TONE_ICONS.get(tone)
        if pixmap is None:
            self.icon.clear()
        else:
            self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(16, 16))
        self.icon.setVisible(pixmap is not None)
        self.setVisible(bool(text))


class Notice(QFrame):
    """A tinted box for advice the user should not miss (e.g. a local-only webhook URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.setProperty("role", "notice")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(8)
        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(16, 16)
        )
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        self.text = text_label(small=True)
        layout.addWidget(self.text, 1)

    def set_text(self, text: str) -> None:
        self.text.setText(text)
        self.setVisible(bool(text))


def form_layout() -> QFormLayout:
    """Labels left of their fields, aligned the same on every tab."""
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(12)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    return form


def address(config: Config) -> str:
    """Where the PBX posts, without the secret path: what the user needs to recognise."""
    return config.webhook_url().removesuffix(config.webhook_path())


class SaveFailed(Exception):
    """Saving stopped: `summary` says so above the buttons, `detail` under `field`."""

    def __init__(self, summary: str, field: str = "", detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.field = field
        self.detail = detail


class SettingsTab(QWidget):
    """A tab of the settings dialog, also a page of the first-run wizard: its widgets on a
    page, the settings it edits (`fields`, read by `typed`), and what it hides in team mode.
    Its buttons run their actions as tasks of the dialog's `tasks`."""

    # A field changed, or a check moved on: the dialog validates every field again.
    changed = Signal()

    def __init__(self, bridge: CoreBridge, tasks: TaskSet) -> None:
        super().__init__()
        self._bridge = bridge
        self._tasks = tasks
        # This tab's fields by setting (plus "api_key", "autostart" and "webhook_url"), and
        # how to read the value typed into each setting's input.
        self.fields: dict[str, Field] = {}
        self._inputs: dict[str, Callable[[], str]] = {}
        # Rows and widgets that need the API key, hidden in team mode: (form, row) pairs.
        self._key_rows: list[tuple[QFormLayout, int]] = []
        self._key_widgets: list[QWidget] = []
        self._team_notices: list[QWidget] = []
        self._page: QVBoxLayout | None = None

    def typed(self, config: Config, errors: dict[str, str]) -> Config:
        """`config` with this tab's settings as typed; a value that does not parse keeps
        the one in `config`, and its problem goes into `errors`."""
        for key, read in self._inputs.items():
            try:
                config = config.with_value(key, read())
            except ConfigError as exc:
                # The parser names the setting; the field is right there, so drop the name.
                errors[key] = str(exc).removeprefix(f"{key}: ")
        return config

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each problem under its field, and none under the others."""
        for key, field in self.fields.items():
            field.set_error(errors.get(key, ""))

    def show_team_mode(self, team: bool) -> None:
        """Hide what needs the API key in team mode, and say why instead."""
        for form, row in self._key_rows:
            form.setRowVisible(row, not team)
        for widget in self._key_widgets:
            widget.setVisible(not team)
        for notice in self._team_notices:
            notice.setVisible(team)

    def add(self, *items: QWidget | QLayout, first: bool = False) -> None:
        """Put more on the page: above what is there with `first`, else under it (and
        above the spare room). The wizard adds its parts to the tabs it shows as pages."""
        assert self._page is not None
        index = 0 if first else self._page.count() - 1
        for offset, item in enumerate(items):
            if isinstance(item, QLayout):
                self._page.insertLayout(index + offset, item)
            else:
                self._page.insertWidget(index + offset, item)

    def _lay_out(self, *items: QWidget | QLayout, stretch: bool = True) -> QVBoxLayout:
        """This tab's page: `items` from the top, then (with `stretch`) spare room."""
        self._page = layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(14)
        for item in items:
            if isinstance(item, QLayout):
                layout.addLayout(item)
            else:
                layout.addWidget(item)
        if stretch:
            layout.addStretch(1)
        return layout

    # --- fields -----------------------------------------------------------------------------

    def _line(self, key: str, *, placeholder: str = "", width: int = 0) -> QLineEdit:
        edit = QLineEdit(self._bridge.config.value_text(key))
        edit.setPlaceholderText(placeholder)
        if width:
            edit.setMaximumWidth(width)
        edit.textChanged.connect(self.changed)
        self._inputs[key] = edit.text
        return edit

    def _combo(self, key: str, choices: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        for value, text in choices:
            combo.addItem(text, value)
        combo.setCurrentIndex(max(combo.findData(self._bridge.config.value_text(key)), 0))
        combo.currentIndexChanged.connect(self.changed)
        self._inputs[key] = lambda: str(combo.currentData())
        return combo

    def _check(self, key: str, text: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setChecked(bool(getattr(self._bridge.config, key)))
        box.toggled.connect(self.changed)
        self._inputs[key] = lambda: "true" if box.isChecked() else "false"
        return box

    def _field(self, key: str, *widgets: QWidget, hint: str = "", stretch: bool = True) -> Field:
        field = Field(*widgets, hint=hint, stretch=stretch)
        self.fields[key] = field
        return field

    def _task_button(
        self,
        text: str,
        run: Callable[[], Coroutine[Any, Any, object]],
        name: str,
        tip: str = "",
    ) -> QPushButton:
        """A button whose click runs `run()` as one of the dialog's tasks."""
        button = QPushButton(text)
        if tip:
            button.setToolTip(tip)
        button.clicked.connect(lambda: self._tasks.start(run(), name=name))
        return button

    def _team_notice(self) -> QLabel:
        """The line that says why a part is hidden in team mode (one per place)."""
        label = text_label(
            self.tr("In team mode, call events come from the team server; no API key is needed."),
            "hint",
        )
        self._team_notices.append(label)
        return label
