"""Placing calls: the one place that calls originate, so "never dial twice" holds for every
button, dialog, tel: link and command that dials."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bulutpop.app.core import Core
from bulutpop.calls import phone
from bulutpop.calls.phone import PhoneNumber
from bulutpop.errors import DialRefused

# A second request for the same number this soon after a successful one is a double click,
# a repeated Enter or a tel: link opened twice, not an intention to call again.
REPEAT_GUARD_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Dialled:
    call_uuid: str
    number: PhoneNumber
    extension: str


class Dialer:
    def __init__(self, core: Core, clock: Callable[[], float] = time.monotonic) -> None:
        self._core = core
        self._clock = clock
        self._in_flight: str | None = None
        self._recent: dict[str, float] = {}

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    async def dial(self, text: str) -> Dialled:
        """Originate to the user's extension. Raises NumberError, SetupMissing, DialRefused
        or a PbxError; never retries."""
        number = phone.parse(text)
        extension = self._core.extension()
        if self._in_flight is not None:
            raise DialRefused("busy", self._in_flight)
        last = self._recent.get(number.key)
        if last is not None and self._clock() - last < REPEAT_GUARD_SECONDS:
            raise DialRefused("repeat", number.key)
        config = self._core.config
        caller_id = phone.parse(config.caller_id).destination if config.caller_id else None
        self._in_flight = number.key
        try:
            call_uuid = await self._core.api().originate(
                extension,
                number.destination,
                caller_id=caller_id,
                manual_answer=config.manual_answer,
            )
        finally:
            self._in_flight = None
        self._recent[number.key] = self._clock()
        return Dialled(call_uuid=call_uuid, number=number, extension=extension)
