"""The recording player: fetches a call's recording into the cache and plays it.

The PBX hands out five recording links a minute; going over that is a wait, not a failure,
so the window counts down and offers the recording again when the PBX will give it.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QDateTime,
    QEvent,
    QLocale,
    QSignalBlocker,
    QStandardPaths,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bulutpop.calls import phone
from bulutpop.calls.model import Call
from bulutpop.errors import BulutpopError, NotFound, RateLimited
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.widgets import heading
from bulutpop.ui.dial import set_tone

log = logging.getLogger(__name__)

# (parent, suggested path) -> chosen path, or "" when the user cancelled.
FileChooser = Callable[[QWidget, str], str]

RATES = (1.0, 1.5, 2.0)
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\s]+')


def ask_save_path(parent: QWidget, suggested: str) -> str:
    """The standard save dialog."""
    title = QCoreApplication.translate("PlayerWindow", "Save recording")
    suffix = Path(suggested).suffix
    filters = QCoreApplication.translate("PlayerWindow", "Recording (*%1)").replace("%1", suffix)
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path


class PlayerWindow(QWidget):
    """Plays one call's recording at a time; `open_call` switches to another call."""

    def __init__(
        self,
        bridge: CoreBridge,
        parent: QWidget | None = None,
        choose_file: FileChooser = ask_save_path,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._choose_file = choose_file
        self.tasks = TaskSet()
        self.call: Call | None = None
        self.path: Path | None = None
        # Each open_call bumps this, so a slow download for an earlier call is ignored.
        self._generation = 0
        self._available_at = 0.0
        # empty, loading, waiting (rate limited), failed (may retry), gone, ready
        self.state = "empty"
        self.setWindowTitle(self.tr("Recording"))
        self.setMinimumWidth(440)

        self.media = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.media.setAudioOutput(self.audio)
        self.media.playbackStateChanged.connect(self._sync_play_button)
        self.media.positionChanged.connect(self._show_position)
        self.media.durationChanged.connect(self._show_duration)
        self.media.errorOccurred.connect(self._media_error)

        self.title = heading()
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        set_tone(self.details, "muted")

        self.play_button = QToolButton()
        self.play_button.setIconSize(self.play_button.iconSize() * 1.4)
        self.play_button.setFixedSize(36, 36)
        self.play_button.clicked.connect(self.toggle_play)

        self.seek = QSlider(Qt.Orientation.Horizontal)
        self.seek.setRange(0, 0)
        self.seek.setSingleStep(5000)
        self.seek.setPageStep(15000)
        self.seek.setAccessibleName(self.tr("Position in the recording"))
        self.seek.valueChanged.connect(self.media.setPosition)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress_label = QLabel()
        set_tone(self.progress_label, "muted")
        downloading = QWidget()
        downloading_layout = QVBoxLayout(downloading)
        downloading_layout.setContentsMargins(0, 0, 0, 0)
        downloading_layout.setSpacing(3)
        downloading_layout.addWidget(self.progress_label)
        downloading_layout.addWidget(self.progress)
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        # The slider's slot shows the download, then a wait or an error, then the slider.
        self.middle = QStackedWidget()
        for page in (downloading, self.message, self.seek):
            self.middle.addWidget(page)

        self.time_label = QLabel()
        self.time_label.setTextFormat(Qt.TextFormat.PlainText)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # Wide enough for "00:00 / 00:00" in any digit widths, so the slider does not jiggle.
        self.time_label.setMinimumWidth(
            self.time_label.fontMetrics().horizontalAdvance("00:00 / 00:00") + 8
        )

        self.speed_buttons = QButtonGroup(self)
        speeds = QHBoxLayout()
        speeds.setSpacing(0)
        for index, rate in enumerate(RATES):
            button = QToolButton()
            button.setCheckable(True)
            button.setChecked(rate == 1.0)
            self.speed_buttons.addButton(button, index)
            speeds.addWidget(button)
        self.speed_buttons.idClicked.connect(lambda index: self.media.setPlaybackRate(RATES[index]))
        self.media.setPitchCompensation(True)  # speech at 2× stays intelligible

        volume_icon = QLabel()
        volume_icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MediaVolume).pixmap(16, 16)
        )
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(100)
        self.volume.setFixedWidth(90)
        self.volume.valueChanged.connect(lambda value: self.audio.setVolume(value / 100))

        self.save_button = QPushButton()
        self.save_button.clicked.connect(self.save_as)
        self.save_note = QLabel()
        self.save_note.setTextFormat(Qt.TextFormat.PlainText)
        self.save_note.setWordWrap(True)
        self.save_note.hide()

        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(self.play_button)
        top.addWidget(self.middle, 1)
        top.addWidget(self.time_label)

        bottom = QHBoxLayout()
        bottom.setSpacing(8)
        bottom.addLayout(speeds)
        bottom.addSpacing(12)
        bottom.addWidget(volume_icon)
        bottom.addWidget(self.volume)
        bottom.addStretch(1)
        bottom.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.details)
        layout.addSpacing(8)
        layout.addLayout(top)
        layout.addSpacing(4)
        layout.addLayout(bottom)
        layout.addWidget(self.save_note)

        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._tick)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.toggle_play)
        self._retranslate()

        self._set_ready(False)
        self._sync_play_button()
        bridge.namesChanged.connect(self._show_names)

    # --- loading -------------------------------------------------------------------------

    async def open_call(self, call: Call) -> None:
        """Show `call`, fetch its recording (from the cache when there) and play it."""
        self._generation += 1
        generation = self._generation
        self.call = call
        self.path = None
        self.state = "loading"
        self._countdown.stop()
        self.media.stop()
        self.media.setSource(QUrl())
        self._show_names()
        self._show_duration(0)
        self._set_ready(False)
        self.save_note.hide()
        self.progress.setRange(0, 0)  # busy until the size is known
        self.progress_label.setText(self.tr("Downloading…"))
        self.middle.setCurrentIndex(0)
        self._sync_play_button()
        try:
            path = await self._bridge.fetch_recording(
                call.call_uuid, self._progress_for(generation)
            )
        except RateLimited as exc:
            if generation == self._generation:
                self._wait(exc.retry_after)
            return
        except Exception as exc:  # whatever it was, the player says so instead of "loading"
            if not isinstance(exc, BulutpopError):
                log.exception("fetching a recording failed")
            if generation == self._generation:
                self._fail(describe_error(exc, "play"), gone=isinstance(exc, NotFound))
            return
        if generation != self._generation:
            return
        self.path = path
        self.state = "ready"
        self.middle.setCurrentWidget(self.seek)
        self._set_ready(True)
        self.media.setSource(QUrl.fromLocalFile(str(path)))
        self.media.play()

    def _progress_for(self, generation: int) -> Callable[[int, int | None], None]:
        def progress(done: int, total: int | None) -> None:
            if generation != self._generation:
                return
            if total:
                percent = min(100, done * 100 // total)
                self.progress.setRange(0, 100)
                self.progress.setValue(percent)
                self.progress_label.setText(self.tr("Downloading… %1%").replace("%1", str(percent)))
            else:
                self.progress_label.setText(
                    self.tr("Downloading… %1 KB").replace("%1", str(done // 1024))
                )

        return progress

    def _show_names(self) -> None:
        """The title and details line; again when names change (e.g. the user renamed the
        caller while listening)."""
        call = self.call
        if call is None:
            return
        number = phone.display(call.party)
        # The bridge's name first: the user's own edit must beat the PBX's caller id name.
        name = self._bridge.name_for(call.party_key) or call.name
        self.title.setText(name or number)
        direction = {
            "inbound": self.tr("Incoming call"),
            "outbound": self.tr("Outgoing call"),
            "internal": self.tr("Internal call"),
        }.get(call.direction, self.tr("Call"))
        parts = [direction, *([number] if name else []), fmt.full(call.start_ts)]
        if call.duration:
            parts.append(fmt.duration(call.duration))
        self.details.setText(" · ".join(p for p in parts if p))
        self.setWindowTitle(self.tr("Recording — %1").replace("%1", name or number))

    def _wait(self, seconds: float) -> None:
        """The PBX's rate limit: count down, then offer the recording again."""
        self._available_at = time.monotonic() + seconds
        self.state = "waiting"
        self._sync_play_button()
        set_tone(self.message, "muted")
        self.middle.setCurrentWidget(self.message)
        self._tick()
        self._countdown.start()

    def _tick(self) -> None:
        left = math.ceil(self._available_at - time.monotonic())
        if left > 0:
            self.message.setText(self.tr("Available in %1 s").replace("%1", str(left)))
            self.play_button.setEnabled(False)
            return
        self._countdown.stop()
        self.message.setText(self.tr("Available now: press Play"))
        self.play_button.setEnabled(True)
        self._sync_play_button()

    def _fail(self, text: str, *, gone: bool) -> None:
        self.state = "gone" if gone else "failed"
        self.message.setText(text)
        set_tone(self.message, "error")
        self.middle.setCurrentWidget(self.message)
        self.play_button.setEnabled(not gone)
        self._sync_play_button()

    # --- playing -------------------------------------------------------------------------

    def toggle_play(self) -> None:
        """Play or pause; after a failed or rate-limited fetch, try the fetch again."""
        if self.state in ("waiting", "failed"):
            if self.play_button.isEnabled() and self.call is not None:
                self.tasks.start(self.open_call(self.call), name="recording")
            return
        if self.state != "ready":
            return
        if self.media.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.media.pause()
        else:
            self.media.play()

    def _set_ready(self, ready: bool) -> None:
        for widget in (self.seek, self.save_button, *self.speed_buttons.buttons()):
            widget.setEnabled(ready)
        self.play_button.setEnabled(ready)

    def _sync_play_button(self) -> None:
        if self.state == "failed":
            icon, tip = QStyle.StandardPixmap.SP_BrowserReload, self.tr("Try again")
        elif self.media.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            icon, tip = QStyle.StandardPixmap.SP_MediaPause, self.tr("Pause (Space)")
        else:
            icon, tip = QStyle.StandardPixmap.SP_MediaPlay, self.tr("Play (Space)")
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setToolTip(tip)
        self.play_button.setAccessibleName(tip)  # an icon alone says nothing to a screen reader

    def _show_position(self, position: int) -> None:
        if not self.seek.isSliderDown():
            with QSignalBlocker(self.seek):  # not a seek: the player moved on
                self.seek.setValue(position)
        self._show_time(position)

    def _show_duration(self, duration: int) -> None:
        self.seek.setRange(0, duration)
        self._show_time(self.media.position())

    def _show_time(self, position: int) -> None:
        total = self.media.duration() / 1000 if self.media.duration() > 0 else None
        if total is None and self.call is not None:
            total = self.call.duration
        self.time_label.setText(
            f"{fmt.duration(position / 1000)} / {fmt.duration(total) if total else '--:--'}"
        )

    def _media_error(self, error: QMediaPlayer.Error, text: str) -> None:
        self._fail(self.tr("This recording cannot be played: %1").replace("%1", text), gone=True)

    # --- saving --------------------------------------------------------------------------

    def save_as(self) -> None:
        """Ask where to save a copy of the recording, then copy it there."""
        if self.path is None or self.call is None:
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
        chosen = self._choose_file(self, str(Path(folder) / self._suggested_name()))
        if chosen:
            self.tasks.start(self.save_to(Path(chosen)), name="save recording")

    def _suggested_name(self) -> str:
        assert self.call is not None and self.path is not None
        stamp = QDateTime.fromSecsSinceEpoch(int(self.call.start_ts or 0)).toString(
            "yyyy-MM-dd HH.mm"
        )
        party = _UNSAFE_NAME.sub("", self.call.party) or self.call.call_uuid
        return f"{stamp} {party}{self.path.suffix}"

    async def save_to(self, target: Path) -> None:
        """Copy the cached recording to `target` and say where it went (or why not)."""
        if self.path is None or self.call is None:
            return
        source = self.path
        if not target.suffix:
            target = target.with_suffix(source.suffix)
        try:
            # Through the core: the copy (off the UI thread) is added to the audit.
            await self._bridge.save_recording(self.call.call_uuid, target)
        except Exception as exc:
            if not isinstance(exc, OSError):
                log.exception("saving a recording failed")
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.save_note.setText(
                self.tr("Could not save the recording: %1").replace("%1", reason)
            )
            set_tone(self.save_note, "error")
        else:
            self.save_note.setText(self.tr("Saved as %1").replace("%1", target.name))
            self.save_note.setToolTip(str(target))
            set_tone(self.save_note, "muted")
        self.save_note.show()

    def _retranslate(self) -> None:
        """The texts that stay as they are while a recording plays, in the current
        language (again after the language changed)."""
        for button in self.speed_buttons.buttons():
            rate = RATES[self.speed_buttons.id(button)]
            shown = QLocale().toString(rate, "g")  # 1,5 in Turkish
            button.setText(self.tr("%1×").replace("%1", shown))
            button.setToolTip(self.tr("Playback speed"))
            button.setAccessibleName(self.tr("Playback speed %1×").replace("%1", shown))
        self.volume.setToolTip(self.tr("Volume"))
        self.volume.setAccessibleName(self.tr("Volume"))
        self.save_button.setText(self.tr("Save as…"))
        self._sync_play_button()
        if self.call is None:
            self.setWindowTitle(self.tr("Recording"))
        elif self.isVisible():  # a hidden one shows its call's names again when reopened
            self._show_names()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        # A closed player must not keep talking in the background.
        self.media.pause()
        self._countdown.stop()
        super().closeEvent(event)
