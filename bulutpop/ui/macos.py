"""macOS only: keep App Nap away from the running app.

App Nap throttles the timers and network of an app whose windows are not visible, which a
menu-bar app always is: pop-ups would come late and the team link would miss its MQTT
keep-alive. Since macOS 10.12 the ``NSAppSleepDisabled`` Info.plist key no longer opts an app
out; an activity begun with ``NSProcessInfo`` does, for as long as it is held. Called through
the Objective-C runtime with ctypes (no PyObjC in the bundle).
"""

from __future__ import annotations

import sys

# NSActivityOptions (Foundation, NSProcessInfo.h): what a user-initiated activity keeps going
# (timers, network, no automatic termination), but letting the idle Mac sleep.
_ACTIVITY_IDLE_SYSTEM_SLEEP_DISABLED = 1 << 20
_ACTIVITY_USER_INITIATED = 0x00FFFFFF | _ACTIVITY_IDLE_SYSTEM_SLEEP_DISABLED
ACTIVITY_OPTIONS = _ACTIVITY_USER_INITIATED & ~_ACTIVITY_IDLE_SYSTEM_SLEEP_DISABLED

_REASON = b"bulutpop shows incoming calls as they ring"


def prevent_app_nap(platform: str = sys.platform) -> bool:
    """Begin an activity that keeps App Nap off until the process ends (it is never ended:
    the app needs it for as long as it runs). Whether it was begun: False on other systems,
    or when the runtime is missing."""
    if platform != "darwin":
        return False
    import ctypes  # here: other systems start without it
    import ctypes.util

    objc_path = ctypes.util.find_library("objc")
    foundation_path = ctypes.util.find_library("Foundation")
    if objc_path is None or foundation_path is None:
        return False
    objc = ctypes.CDLL(objc_path)
    ctypes.CDLL(foundation_path)  # registers NSProcessInfo and NSString with the runtime
    objc.objc_getClass.restype = ctypes.c_void_p
    objc.objc_getClass.argtypes = [ctypes.c_char_p]
    objc.sel_registerName.restype = ctypes.c_void_p
    objc.sel_registerName.argtypes = [ctypes.c_char_p]
    send = ("objc_msgSend", objc)
    # objc_msgSend is called through a prototype of each method's exact signature (on arm64
    # a variadic call would pass the arguments in the wrong registers).
    ask = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(send)
    with_text = ctypes.CFUNCTYPE(
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p
    )(send)
    begin = ctypes.CFUNCTYPE(
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p
    )(send)
    selector = objc.sel_registerName
    info = ask(objc.objc_getClass(b"NSProcessInfo"), selector(b"processInfo"))
    reason = with_text(objc.objc_getClass(b"NSString"), selector(b"stringWithUTF8String:"), _REASON)
    token = begin(info, selector(b"beginActivityWithOptions:reason:"), ACTIVITY_OPTIONS, reason)
    if not token:
        return False
    # The token comes autoreleased: the next drain of Qt's autorelease pool would end it.
    ask(token, selector(b"retain"))
    return True
