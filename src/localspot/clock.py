"""Clocks: the one place wall time is read.

Everything that needs the time takes a `Clock`; tests pass a `FakeClock` and move it by hand,
so no test ever sleeps to make time pass.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of wall-clock time in UTC."""

    def now_us(self) -> int:
        """Return microseconds since the epoch."""
        ...

    def now_ms(self) -> int:
        """Return milliseconds since the epoch."""
        ...


class SystemClock:
    """The real wall clock."""

    def now_us(self) -> int:
        """Return microseconds since the epoch."""
        return time.time_ns() // 1_000

    def now_ms(self) -> int:
        """Return milliseconds since the epoch."""
        return time.time_ns() // 1_000_000


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now_us = start_ms * 1_000

    def now_us(self) -> int:
        """Return microseconds since the epoch."""
        return self._now_us

    def now_ms(self) -> int:
        """Return milliseconds since the epoch."""
        return self._now_us // 1_000

    def advance(self, ms: float) -> None:
        """Move the clock forward by `ms` milliseconds (fractions allowed)."""
        self._now_us += round(ms * 1_000)

    def set_ms(self, now_ms: int) -> None:
        """Set the clock to `now_ms`."""
        self._now_us = now_ms * 1_000
