"""Names for screen readers where Qt cannot find one by itself.

Qt names an input after the label whose buddy it is. A form row whose field is a container
(an input with its hint and error underneath, a key field with its buttons) makes the
container the label's buddy, so the input inside stays nameless: `name_inputs_after_labels`
gives such inputs their row's label as accessible name, and makes the container pass focus
on to its first input (the label's Alt+letter reaches it).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)

# What a user operates, and so what must carry a name.
INPUTS = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
)


def label_text(label: QLabel) -> str:
    """A label's words as a name: no mnemonic ampersand, no trailing colon."""
    return label.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(" :")


def name_inputs_after_labels(root: QWidget) -> None:
    """Every input inside a labelled container below `root`, nameless so far, takes the
    label's text as its accessible name."""
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        text = label_text(label)
        if buddy is None or isinstance(buddy, INPUTS) or not text:
            continue
        inputs = [
            widget
            for widget in buddy.findChildren(QWidget)
            if isinstance(widget, INPUTS) and not isinstance(widget, QAbstractButton)
        ]
        for widget in inputs:
            if not widget.accessibleName():
                widget.setAccessibleName(text)
        if inputs and buddy.focusProxy() is None:
            buddy.setFocusProxy(inputs[0])
