"""App Nap: off macOS only the choice of options and the other systems can be checked; the
Objective-C calls run on a Mac (the hosted macOS CI runs this file)."""

from __future__ import annotations

import sys

import pytest

from bulutpop.ui import macos


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_app_nap_is_a_macos_matter(platform: str) -> None:
    assert macos.prevent_app_nap(platform) is False


def test_the_activity_keeps_timers_running_but_lets_the_mac_sleep() -> None:
    options = macos.ACTIVITY_OPTIONS
    assert options == 0x00EFFFFF  # NSActivityUserInitiatedAllowingIdleSystemSleep
    assert options & (1 << 15)  # NSActivityAutomaticTerminationDisabled
    assert not options & (1 << 20)  # NSActivityIdleSystemSleepDisabled


@pytest.mark.skipif(sys.platform != "darwin", reason="run by the hosted macOS CI")
def test_app_nap_is_kept_off_on_a_mac() -> None:
    assert macos.prevent_app_nap() is True
