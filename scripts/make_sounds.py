"""Synthesise bulutpop's ring sound with the standard library only.

    python scripts/make_sounds.py   # writes resources/sounds/ring.wav

The ring is two soft chimes, high then low (A5, E5), played twice: about 1.2 s of 16-bit mono
PCM at 22,050 Hz (~53 KB). Each note is a sine with two quiet overtones, a short attack and an
exponential decay, so it sounds like a small bell rather than a buzzer; the whole clip fades
in and out so it never clicks. The output is deterministic: same script, same bytes.
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from collections.abc import Sequence
from pathlib import Path

RATE = 22_050
DURATION = 1.2  # seconds
PEAK = 0.6  # of full scale (about -4.4 dBFS): audible, not startling
HIGH = 880.0  # A5
LOW = 659.25  # E5, a fourth below
# (start in seconds, frequency in Hz, relative loudness)
NOTES: Sequence[tuple[float, float, float]] = (
    (0.00, HIGH, 1.0),
    (0.26, LOW, 0.9),
    (0.60, HIGH, 1.0),
    (0.86, LOW, 0.9),
)
OVERTONES = ((2.0, 0.28), (3.0, 0.08))  # (multiple of the fundamental, amplitude)
ATTACK = 0.008  # seconds
DECAY = 0.16  # time constant of the exponential decay, seconds
FADE_IN = 0.01
FADE_OUT = 0.15

OUTPUT = Path(__file__).resolve().parents[1] / "resources" / "sounds" / "ring.wav"


def note(t: float, frequency: float) -> float:
    """One chime at time t (seconds since the note began); 0 before it starts."""
    if t < 0:
        return 0.0
    envelope = (t / ATTACK if t < ATTACK else 1.0) * math.exp(-t / DECAY)
    tone = math.sin(2 * math.pi * frequency * t)
    for multiple, amplitude in OVERTONES:
        tone += amplitude * math.sin(2 * math.pi * frequency * multiple * t)
    return envelope * tone


def fade(t: float) -> float:
    """Gain of the whole clip at time t: raised-cosine ramps at both ends."""
    if t < FADE_IN:
        return 0.5 - 0.5 * math.cos(math.pi * t / FADE_IN)
    remaining = DURATION - t
    if remaining < FADE_OUT:
        return 0.5 - 0.5 * math.cos(math.pi * max(remaining, 0.0) / FADE_OUT)
    return 1.0


def ring() -> list[float]:
    samples = []
    for i in range(round(DURATION * RATE)):
        t = i / RATE
        value = sum(loud * note(t - start, freq) for start, freq, loud in NOTES)
        samples.append(value * fade(t))
    scale = PEAK / max(abs(s) for s in samples)
    return [s * scale for s in samples]


def write_wav(path: Path, samples: Sequence[float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(struct.pack("<h", round(s * 32767)) for s in samples)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)


def main() -> int:
    write_wav(OUTPUT, ring())
    print(f"{OUTPUT} ({OUTPUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
