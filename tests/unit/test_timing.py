"""Timing security: the doc's two-step timestamp/recvWindow check, ms and µs."""

from __future__ import annotations

import pytest

from localspot import errors
from localspot.auth import timing
from localspot.errors import BinanceError

SERVER_US = 1_700_000_000_000_000


def test_timestamps_in_ms_and_us():
    assert timing.timestamp_to_us(1_700_000_000_000) == 1_700_000_000_000_000
    assert timing.timestamp_to_us(1_700_000_000_000_123) == 1_700_000_000_000_123
    assert timing.timestamp_to_ms(1_700_000_000_000_123) == 1_700_000_000_000


@pytest.mark.parametrize(
    ("offset_us", "window_us"),
    [(0, 5_000_000), (-5_000_000, 5_000_000), (999_999, 5_000_000), (-346, 346)],
)
def test_accepted(offset_us, window_us):
    timing.check_timestamp(SERVER_US + offset_us, window_us, SERVER_US)


@pytest.mark.parametrize(
    ("offset_us", "window_us", "spec"),
    [
        (1_000_000, 5_000_000, errors.TIMESTAMP_AHEAD),
        (-5_000_001, 5_000_000, errors.TIMESTAMP_OUTSIDE_RECV_WINDOW),
        (-347, 346, errors.TIMESTAMP_OUTSIDE_RECV_WINDOW),
    ],
)
def test_rejected(offset_us, window_us, spec):
    with pytest.raises(BinanceError) as info:
        timing.check_timestamp(SERVER_US + offset_us, window_us, SERVER_US)
    assert info.value.spec is spec


def test_second_step_rejects_a_request_that_waited_too_long():
    timestamp = SERVER_US - 4_000_000
    timing.check_timestamp(timestamp, 5_000_000, SERVER_US)
    with pytest.raises(BinanceError):
        timing.check_still_in_window(timestamp, 5_000_000, SERVER_US + 1_000_001)
