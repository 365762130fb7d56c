"""Market data against hand-computed fixtures: aggregation, kline buckets (with time zones),
rolling windows, tickers, average price and the book mirror's update ids."""

from __future__ import annotations

from decimal import Decimal

import pytest

from localspot.domain.orders import Trade
from localspot.marketdata import intervals, klines, tickers
from localspot.marketdata.book import BookMirror
from localspot.marketdata.tape import Tape

D = Decimal
T0 = 1_700_000_040_000  # 2023-11-14 22:14:00 UTC, the start of a minute


def trade(
    trade_id: int,
    price: str,
    qty: str,
    time_ms: int,
    *,
    taker: int = 100,
    buyer_maker: bool = False,
) -> Trade:
    """A trade whose taker order is `taker` (the buyer unless the buyer is the maker)."""
    buyer, seller = (1, taker) if buyer_maker else (taker, 1)
    p, q = D(price), D(qty)
    return Trade(
        "BTCUSDT", trade_id, p, q, p * q, time_ms, buyer, seller, 1, 2, buyer_maker,
        D(0), "BTC", D(0), "USDT",
    )  # fmt: skip


def tape_of(*trades: Trade) -> Tape:
    tape = Tape()
    tape.extend(trades)
    return tape


# -- aggregation ---------------------------------------------------------------------------------


def test_same_taker_price_and_time_make_one_aggregate():
    tape = tape_of(
        trade(1, "10", "1", T0, taker=7),
        trade(2, "10", "2", T0, taker=7),
        trade(3, "11", "1", T0, taker=7),  # new price
        trade(4, "11", "1", T0, taker=8),  # new taker
        trade(5, "11", "1", T0 + 1, taker=8),  # new time
    )
    got = [(a.agg_id, a.price, a.qty, a.first_id, a.last_id) for a in tape.aggs]
    assert got == [
        (0, D(10), D(3), 1, 2),
        (1, D(11), D(1), 3, 3),
        (2, D(11), D(1), 4, 4),
        (3, D(11), D(1), 5, 5),
    ]
    assert tape.agg_of(2).agg_id == 0
    assert tape.agg_of(5).agg_id == 3


def test_aggregate_selection_by_id_time_and_recency():
    tape = tape_of(*(trade(i, "10", "1", T0 + i * 1000, taker=i) for i in range(1, 6)))
    assert [a.agg_id for a in tape.aggregates(2, from_id=3)] == [3, 4]
    assert [a.agg_id for a in tape.aggregates(2, start_ms=T0 + 2000)] == [1, 2]
    assert [a.agg_id for a in tape.aggregates(10, start_ms=T0 + 2000, end_ms=T0 + 3000)] == [1, 2]
    assert [a.agg_id for a in tape.aggregates(2, end_ms=T0 + 3000)] == [1, 2]
    assert [a.agg_id for a in tape.aggregates(2)] == [3, 4]
    assert tape.aggregates(5, from_id=99) == []


def test_trades_from_id_and_recent():
    tape = tape_of(*(trade(i, "10", "1", T0) for i in range(1, 6)))
    assert [t.trade_id for t in tape.from_id(2, 2)] == [2, 3]
    assert [t.trade_id for t in tape.from_id(0, 2)] == [1, 2]
    assert [t.trade_id for t in tape.recent(2)] == [4, 5]
    assert tape.from_id(6, 10) == []


# -- intervals and klines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "time_ms", "offset_ms", "open_ms"),
    [
        ("1s", T0 + 1500, 0, T0 + 1000),
        ("1m", T0 + 59_999, 0, T0),
        ("1h", T0, 0, 1_699_999_200_000),  # 22:00 UTC
        ("1d", T0, 0, 1_699_920_000_000),  # 2023-11-14 00:00 UTC
        ("1d", T0, 8 * 3_600_000, 1_699_977_600_000),  # 2023-11-15 00:00 UTC+8 = 16:00 UTC
        ("1h", T0, 5 * 3_600_000 + 45 * 60_000, 1_699_996_500_000),  # 03:59 at 05:45 -> 21:15Z
        ("1d", T0, -3_600_000, 1_699_923_600_000),  # UTC-1 day starts 01:00 UTC
        ("1w", T0, 0, 1_699_833_600_000),  # Monday 2023-11-13
        ("3d", T0, 0, 1_699_920_000_000),  # 2023-11-14, day 19675 = 1 (mod 3)
        ("1M", T0, 0, 1_698_796_800_000),  # 2023-11-01
        ("1M", 1_698_796_800_000 - 1, 8 * 3_600_000, 1_698_768_000_000),  # Nov 1 in UTC+8
    ],
)
def test_bucket_open_times(interval, time_ms, offset_ms, open_ms):
    assert intervals.open_time(interval, time_ms, offset_ms) == open_ms


def test_month_close_and_next_open():
    nov = 1_698_796_800_000
    assert intervals.next_open("1M", nov) == 1_701_388_800_000  # 2023-12-01
    assert intervals.next_open("1M", 1_701_388_800_000) == 1_704_067_200_000  # 2024-01-01
    assert intervals.close_time("1M", nov) == 1_701_388_800_000 - 1


@pytest.mark.parametrize(
    ("text", "offset"),
    [("0", 0), ("8", 8 * 3_600_000), ("-1:00", -3_600_000), ("05:45", 20_700_000),
     ("+14:00", 14 * 3_600_000), ("-12:00", -12 * 3_600_000), ("14:01", None), ("-12:30", None),
     ("8:60", None), ("abc", None), ("", None)],
)  # fmt: skip
def test_time_zone_parsing(text, offset):
    assert intervals.parse_time_zone(text) == offset


def test_klines_fill_quiet_buckets_at_previous_close():
    tape = tape_of(
        trade(1, "10", "1", T0 + 1_000),
        trade(2, "12", "2", T0 + 2_000, buyer_maker=True),
        trade(3, "11", "1", T0 + 121_000),
    )
    rows = klines.klines(tape, "1m", T0 + 130_000, 500)
    assert [(k.open_ms, k.close_ms) for k in rows] == [
        (T0, T0 + 59_999),
        (T0 + 60_000, T0 + 119_999),
        (T0 + 120_000, T0 + 179_999),
    ]
    first, quiet, last = rows
    assert (first.open, first.high, first.low, first.close) == (D(10), D(12), D(10), D(12))
    assert (first.volume, first.quote_volume, first.count) == (D(3), D(34), 2)
    assert (first.taker_buy_volume, first.taker_buy_quote_volume) == (D(1), D(10))
    assert (quiet.open, quiet.close, quiet.volume, quiet.count) == (D(12), D(12), D(0), 0)
    assert (last.open, last.close, last.count) == (D(11), D(11), 1)


def test_kline_selection_by_start_end_and_limit():
    tape = tape_of(*(trade(i, "10", "1", T0 + i * 60_000) for i in range(0, 10)))
    now = T0 + 9 * 60_000 + 5
    opens = lambda rows: [(k.open_ms - T0) // 60_000 for k in rows]  # noqa: E731
    assert opens(klines.klines(tape, "1m", now, 3)) == [7, 8, 9]
    assert opens(klines.klines(tape, "1m", now, 3, start_ms=T0 + 1)) == [1, 2, 3]
    assert opens(klines.klines(tape, "1m", now, 3, start_ms=T0 + 60_000)) == [1, 2, 3]
    assert opens(klines.klines(tape, "1m", now, 3, end_ms=T0 + 4 * 60_000)) == [2, 3, 4]
    assert opens(klines.klines(tape, "1m", now, 10, T0 + 120_000, T0 + 240_000)) == [2, 3, 4]
    assert klines.klines(tape, "1m", now, 10, start_ms=now + 60_000) == []
    assert klines.klines(Tape(), "1m", now, 10) == []


def test_klines_with_time_zone_cut_days_locally():
    # 15:59 and 16:01 UTC fall in two UTC+8 days, one UTC day.
    day = 1_699_920_000_000
    tape = tape_of(trade(1, "10", "1", day + 57_540_000), trade(2, "11", "1", day + 57_660_000))
    assert len(klines.klines(tape, "1d", day + 60_000_000, 10)) == 1
    local = klines.klines(tape, "1d", day + 60_000_000, 10, offset_ms=8 * 3_600_000)
    assert [k.open_ms for k in local] == [day - 28_800_000, day + 57_600_000]


# -- tickers -------------------------------------------------------------------------------------


def test_window_statistics():
    tape = tape_of(
        trade(1, "8", "1", T0 - 10),  # before the window: the previous close
        trade(2, "10", "1", T0),
        trade(3, "12", "1", T0 + 10),
        trade(4, "9", "2", T0 + 20),
    )
    s = tickers.stats(tape, T0, T0 + 20)
    assert (s.open, s.high, s.low, s.last, s.last_qty) == (D(10), D(12), D(9), D(9), D(2))
    assert (s.volume, s.quote_volume, s.first_id, s.last_id, s.count) == (D(4), D(40), 2, 4, 3)
    assert s.prev_close == D(8)
    assert s.price_change == D(-1)
    assert s.price_change_percent == D("-10.000")
    assert s.weighted_average == D(10)


def test_empty_window_reports_zeros_and_minus_one_ids():
    tape = tape_of(trade(1, "8", "1", T0))
    s = tickers.stats(tape, T0 + 1, T0 + 100)
    assert (s.open, s.last, s.volume, s.count, s.first_id, s.last_id) == (0, 0, 0, 0, -1, -1)
    assert s.prev_close == D(8)
    assert str(s.price_change_percent) == "0.000"


def test_price_change_percent_rounds_half_up():
    # rest-api.md's 24hr example: -94.99999800 on 99 is -95.960 %.
    tape = tape_of(trade(1, "99", "1", T0), trade(2, "4.000002", "1", T0 + 1))
    assert str(tickers.stats(tape, T0, T0 + 1).price_change_percent) == "-95.960"


@pytest.mark.parametrize(
    ("text", "ms"),
    [("1m", 60_000), ("59m", 3_540_000), ("1h", 3_600_000), ("23h", 82_800_000),
     ("1d", 86_400_000), ("7d", 604_800_000), ("60m", None), ("24h", None), ("8d", None),
     ("0m", None), ("1d2h", None), ("1w", None)],
)  # fmt: skip
def test_window_sizes(text, ms):
    assert tickers.window_ms(text) == ms


def test_rolling_window_opens_on_a_minute():
    # web-socket-api.md's example: 7d at 1660184865291 opens at 1659580020000.
    assert tickers.rolling_open(1_660_184_865_291, 7 * 86_400_000) == 1_659_580_020_000
    assert tickers.trading_day(1_695_700_000_000, 0) == (1_695_686_400_000, 1_695_772_799_999)


def test_average_price_window_and_fallback():
    tape = tape_of(trade(1, "10", "1", T0), trade(2, "20", "3", T0 + 60_000))
    assert tickers.average_price(tape, T0 + 60_000, 5) == (D("17.5"), T0 + 60_000)
    # Nothing in the last 5 minutes: the last price.
    assert tickers.average_price(tape, T0 + 3_600_000, 5) == (D(20), T0 + 60_000)
    assert tickers.average_price(Tape(), T0, 5) == (D(0), 0)


# -- book mirror ---------------------------------------------------------------------------------


def test_update_id_grows_only_when_the_book_changed():
    book = BookMirror()
    book.retain = True
    assert book.observe([], []) == 0
    assert book.observe([(D(10), D(1))], [(D(11), D(2))]) == 1
    assert book.observe([(D(10), D(1))], [(D(11), D(2))]) == 1
    assert book.observe([(D(10), D(3))], []) == 2
    assert book.changes_since(1) == [(2, True, D(10), D(3)), (2, False, D(11), D(0))]


def test_partial_look_leaves_deeper_levels_alone():
    book = BookMirror()
    book.observe([(D(10), D(1)), (D(9), D(1)), (D(8), D(1))], [])
    # Top 2 are 10 and 8.5: 9 is gone, 8 (beyond the look) is not judged.
    assert book.observe([(D(10), D(1)), (D("8.5"), D(1))], [], depth=2) == 2
    assert book.bids == {D(10): D(1), D("8.5"): D(1), D(8): D(1)}


def test_discard_keeps_changes_readers_still_need():
    book = BookMirror()
    book.retain = True
    for qty in range(1, 4):
        book.observe([(D(10), D(qty))], [])
    book.discard_until(2)
    assert book.changes_since(0) == [(3, True, D(10), D(3))]
