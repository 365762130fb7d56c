from decimal import Decimal

from test_domain_support import fixture_specs

from localspot.domain.enums import OrderType, StpMode, SymbolStatus


def test_testnet_btcusdt_parses_filters_and_flags() -> None:
    spec = {s.symbol: s for s in fixture_specs()}["BTCUSDT"]
    assert spec.status is SymbolStatus.TRADING
    assert (spec.base_asset, spec.quote_asset) == ("BTC", "USDT")
    assert spec.price_filter is not None
    assert spec.price_filter.tick_size == Decimal("0.01")
    assert spec.lot_size is not None
    assert spec.lot_size.step_size == Decimal("0.00001")
    assert spec.market_lot_size is not None
    assert spec.market_lot_size.max_qty == Decimal("141.67845966")
    assert spec.percent_price_by_side is not None
    assert spec.percent_price_by_side.bid_multiplier_up == Decimal(2)
    assert spec.notional is not None
    assert spec.notional.apply_min_to_market
    assert spec.trailing_delta is not None
    assert spec.trailing_delta.max_trailing_below_delta == 2000
    assert (spec.iceberg_parts, spec.max_num_orders, spec.max_num_algo_orders) == (100, 200, 5)
    assert (spec.max_num_order_amends, spec.max_num_order_lists) == (10, 20)
    assert spec.default_stp_mode is StpMode.EXPIRE_MAKER
    assert spec.allowed_stp_modes == frozenset(StpMode)
    assert OrderType.TAKE_PROFIT in spec.order_types
    assert spec.amend_allowed
    assert spec.peg_instructions_allowed
    assert spec.allow_trailing_stop
    assert spec.permission_sets == (("SPOT",),)


def test_old_mainnet_shape_uses_permissions_and_lacks_newer_filters() -> None:
    spec = {s.symbol: s for s in fixture_specs()}["BNBBTC"]
    assert OrderType.STOP_LOSS not in spec.order_types
    assert spec.max_num_order_amends is None
    assert not spec.amend_allowed
    assert spec.permission_sets


def test_raw_limits_use_the_symbols_scale() -> None:
    spec = {s.symbol: s for s in fixture_specs()}["ETHBTC"]
    assert spec.price_decimals == 8
    assert spec.raw.tick == 1000  # 0.00001 at 8 places
    assert spec.raw.step == 10000  # 0.0001 at 8 places
