"""What the list windows (missed calls, call history) share around their table: the table's
look, the actions on the selected row (keyboard shortcuts and the right-click menu), and
copying a number with word of it in the status line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from PySide6.QtCore import QAbstractItemModel, QCoreApplication, QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

T = TypeVar("T")


class Status(Protocol):
    """The status line under a list (missed.StatusLine)."""

    def show_success(self, text: str, seconds: int = 15) -> None: ...


def list_view(model: QAbstractItemModel, lines: int, padding: int) -> QTableView:
    """A read-only table of `model`, one row selected at a time, every row as high as
    `lines` lines of text and `padding` px (fixed heights let the view skip measuring
    100,000 rows)."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setCornerButtonEnabled(False)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(lines * view.fontMetrics().height() + padding)
    view.horizontalHeader().setHighlightSections(False)
    return view


def selected_row(view: QTableView) -> int | None:
    """The row selected in `view`, if any."""
    rows = view.selectionModel().selectedRows()
    return rows[0].row() if rows else None


class RowActions(Generic[T]):
    """The actions on the row selected in `view`: each with a shortcut that works while the
    list has focus, offered again in the row's right-click menu. A handler gets the row's
    item as `selected` returns it when the action fires (rows move as calls arrive)."""

    def __init__(self, view: QTableView, selected: Callable[[], T | None]) -> None:
        self._view = view
        self._selected = selected
        self._menu: list[list[QAction]] = []
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._show_menu)

    def add(
        self,
        text: str,
        handler: Callable[[T], None],
        key: Qt.Key | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self._view)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(lambda: self.run(handler))
        self._view.addAction(action)
        return action

    def run(self, handler: Callable[[T], None]) -> None:
        """Run `handler` on the selected row's item as it is now; nothing when none is."""
        item = self._selected()
        if item is not None:
            handler(item)

    def set_menu(self, *sections: list[QAction]) -> None:
        """The right-click menu: these actions, a separator between sections."""
        self._menu = [list(section) for section in sections]

    def _show_menu(self, pos: QPoint) -> None:
        index = self._view.indexAt(pos)
        if not index.isValid():
            return
        self._view.selectRow(index.row())
        menu = QMenu(self._view)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for i, section in enumerate(self._menu):
            if i:
                menu.addSeparator()
            menu.addActions(section)
        # popup, not exec: a nested event loop would run asyncio callbacks re-entrantly.
        menu.popup(self._view.viewport().mapToGlobal(pos))


def copy_number(shown: str, status: Status) -> None:
    """Put a number (as shown) on the clipboard and say so in the status line."""
    QGuiApplication.clipboard().setText(shown)
    status.show_success(
        QCoreApplication.translate("copy_number", "Copied %1.").replace("%1", shown), seconds=4
    )
