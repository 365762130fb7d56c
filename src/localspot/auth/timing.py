"""Timing security: `timestamp` and `recvWindow` (web-socket-api.md "Timing security").

The doc's two-step check, in microseconds so that a `recvWindow` with three decimals and a
microsecond `timestamp` are compared exactly:

    if timestamp < serverTime + 1 s and serverTime - timestamp <= recvWindow: accept (step 1)
    then, just before the engine: serverTime - timestamp <= recvWindow again (step 2)
"""

from __future__ import annotations

from localspot import errors

# A timestamp above this is in microseconds (1e14 ms is the year 5138).
MICROSECOND_THRESHOLD = 100_000_000_000_000


def timestamp_to_us(timestamp: int) -> int:
    """Return a timestamp given in milliseconds or microseconds as microseconds."""
    return timestamp if timestamp >= MICROSECOND_THRESHOLD else timestamp * 1_000


def timestamp_to_ms(timestamp: int) -> int:
    """Return a timestamp given in milliseconds or microseconds as milliseconds."""
    return timestamp // 1_000 if timestamp >= MICROSECOND_THRESHOLD else timestamp


def check_timestamp(timestamp_us: int, recv_window_us: int, server_time_us: int) -> None:
    """Raise -1021 unless the request is within its window (step 1 of the doc's check)."""
    if timestamp_us >= server_time_us + 1_000_000:
        raise errors.TIMESTAMP_AHEAD.error()
    if server_time_us - timestamp_us > recv_window_us:
        raise errors.TIMESTAMP_OUTSIDE_RECV_WINDOW.error()


def check_still_in_window(timestamp_us: int, recv_window_us: int, server_time_us: int) -> None:
    """Raise -1021 if the window passed while the request waited (step 2)."""
    if server_time_us - timestamp_us > recv_window_us:
        raise errors.TIMESTAMP_OUTSIDE_RECV_WINDOW.error()
