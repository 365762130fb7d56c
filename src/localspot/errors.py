"""The one catalog of Binance errors: code, exact message (from errors.md), status.

Nothing else in localspot spells a Binance error code or message. Parts raise
`SPEC.error(args...)`; the transports turn the `BinanceError` into `{"code", "msg"}` (plus
`data` where documented) with `status` as the WebSocket API status / HTTP status.

errors.md gives codes and messages but no statuses. Statuses follow web-socket-api.md "Status
codes" (400 for rejected requests, 429 rate limited, 418 banned, 5xx execution status unknown)
and binance-observed.md (-2015 and -2014 are 401 on REST and on the WebSocket API).
Messages with `%s` are filled positionally, exactly as Binance fills them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """One catalog entry: a Binance error code, its message template and its status."""

    code: int
    message: str
    status: int = 400

    def error(self, *args: object, data: dict[str, Any] | None = None) -> BinanceError:
        """Build the exception for this entry, filling `%s` placeholders with `args`."""
        msg = self.message % args if args else self.message
        return BinanceError(self, msg, data)

    @property
    def is_execution_unknown(self) -> bool:
        """True for 5xx entries: the request may or may not have been executed."""
        return self.status >= 500


class BinanceError(Exception):
    """A Binance error answer: raised by any stage, rendered by the transports."""

    def __init__(self, spec: ErrorSpec, msg: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(msg)
        self.spec = spec
        self.code = spec.code
        self.msg = msg
        self.status = spec.status
        self.data = data

    def body(self) -> dict[str, Any]:
        """Return the `{"code", "msg"[, "data"]}` object for the wire."""
        out: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            out["data"] = self.data
        return out

    def __repr__(self) -> str:
        return f"BinanceError({self.code}, {self.msg!r}, status={self.status})"


E = ErrorSpec

# 10xx - General Server or Network issues
UNKNOWN = E(-1000, "An unknown error occurred while processing the request.", 500)
INVALID_PARAMS_OBJECT = E(-1000, "Invalid 'params' in JSON request; expected an object.")
DISCONNECTED = E(-1001, "Internal error; unable to process your request. Please try again.", 500)
UNAUTHORIZED = E(-1002, "You are not authorized to execute this request.", 401)
TOO_MANY_REQUESTS_QUEUED = E(-1003, "Too many requests queued.", 429)
TOO_MUCH_REQUEST_WEIGHT = E(
    -1003,
    "Too much request weight used; current limit is %s request weight per %s. "
    "Please use WebSocket Streams for live updates to avoid polling the API.",
    429,
)
TOO_MANY_RAW_REQUESTS = E(
    -1003,
    "Too many requests; current limit is %s requests per %s.",
    429,
)
IP_BANNED = E(
    -1003,
    "Way too much request weight used; IP banned until %s. "
    "Please use WebSocket Streams for live updates to avoid bans.",
    418,
)
UNEXPECTED_RESP = E(
    -1006,
    "An unexpected response was received from the message bus. Execution status unknown.",
    500,
)
TIMEOUT = E(
    -1007,
    "Timeout waiting for response from backend server. "
    "Send status unknown; execution status unknown.",
    503,
)
SERVER_BUSY = E(
    -1008,
    "Server is currently overloaded with other requests. Please try again in a few minutes.",
    503,
)
INVALID_MESSAGE = E(
    -1013,
    "The request is rejected by the API. (i.e. The request didn't reach the Matching Engine.)",
)
FILTER_FAILURE = E(-1013, "Filter failure: %s")
STP_MODE_NOT_ALLOWED = E(
    -1013, "This symbol does not allow the specified self-trade prevention mode."
)  # stp_faq.md
UNKNOWN_ORDER_COMPOSITION = E(-1014, "Unsupported order combination.")
TOO_MANY_ORDERS = E(-1015, "Too many new orders; current limit is %s orders per %s.", 429)
SERVICE_SHUTTING_DOWN = E(-1016, "This service is no longer available.", 503)
UNSUPPORTED_OPERATION = E(-1020, "This operation is not supported.")
TIMESTAMP_OUTSIDE_RECV_WINDOW = E(-1021, "Timestamp for this request is outside of the recvWindow.")
TIMESTAMP_AHEAD = E(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
INVALID_SIGNATURE = E(-1022, "Signature for this request is not valid.")
TOO_MANY_CONNECTIONS = E(-1034, "Too many concurrent connections; current limit is '%s'.", 429)
TOO_MANY_CONNECTION_ATTEMPTS_IP = E(
    -1034, "Too many connection attempts from IP; current limit is %s per '%s'.", 429
)

# 11xx - Request issues
ILLEGAL_CHARS = E(-1100, "Illegal characters found in a parameter.")
ILLEGAL_CHARS_PARAM = E(-1100, "Illegal characters found in parameter '%s'; legal range is '%s'.")
TOO_MANY_PARAMETERS = E(-1101, "Too many parameters; expected '%s' and received '%s'.")
DUPLICATE_PARAMETER = E(-1101, "Duplicate values for a parameter detected.")
MANDATORY_PARAM_EMPTY_OR_MALFORMED = E(
    -1102, "Mandatory parameter '%s' was not sent, was empty/null, or malformed."
)
EITHER_PARAM_REQUIRED = E(-1102, "Param '%s' or '%s' must be sent, but both were empty/null!")
PARAM_GREATER_THAN = E(-1102, "'%s' contains unexpected value. Cannot be greater than %s.")
UNKNOWN_PARAM = E(-1103, "An unknown parameter was sent.")
UNREAD_PARAMETERS = E(
    -1104, "Not all sent parameters were read; read '%s' parameter(s) but was sent '%s'."
)
PARAM_EMPTY = E(-1105, "Parameter '%s' was empty.")
PARAM_NOT_REQUIRED = E(-1106, "Parameter '%s' sent when not required.")
PARAM_OVERFLOW = E(-1108, "Parameter '%s' overflowed.")
BAD_PRECISION = E(-1111, "Parameter '%s' has too much precision.")
NO_DEPTH = E(-1112, "No orders on book for symbol.")
TIF_NOT_REQUIRED = E(-1114, "TimeInForce parameter sent when not required.")
INVALID_TIF = E(-1115, "Invalid timeInForce.")
INVALID_ORDER_TYPE = E(-1116, "Invalid orderType.")
INVALID_SIDE = E(-1117, "Invalid side.")
EMPTY_NEW_CL_ORD_ID = E(-1118, "New client order ID was empty.")
EMPTY_ORG_CL_ORD_ID = E(-1119, "Original client order ID was empty.")
BAD_INTERVAL = E(-1120, "Invalid interval.")
BAD_SYMBOL = E(-1121, "Invalid symbol.")
INVALID_SYMBOLSTATUS = E(-1122, "Invalid symbolStatus.")
INVALID_LISTEN_KEY = E(-1125, "This listenKey does not exist.")
MORE_THAN_XX_HOURS = E(-1127, "More than %s hours between startTime and endTime.")
OPTIONAL_PARAMS_BAD_COMBO = E(-1128, "Combination of optional parameters invalid.")
PARAMS_MUST_BOTH_BE_SENT = E(
    -1128,
    "Combination of optional fields invalid. Recommendation: '%s' and '%s' must both be sent.",
)
FIELDS_TOGETHER = E(-1128, "Fields [%s] must be sent together or omitted entirely.")
INVALID_PARAMETER = E(-1130, "Data sent for parameter '%s' is not valid.")
BAD_STRATEGY_TYPE = E(-1134, "`strategyType` was less than 1000000.")
INVALID_JSON = E(-1135, "Invalid JSON Request.")
INVALID_JSON_PARAM = E(-1135, "JSON sent for parameter '%s' is not valid")
INVALID_REQUEST_ID = E(
    -1135,
    "Invalid 'id' in JSON request; expected an integer, a string matching "
    "'^[a-zA-Z0-9-_]{1,36}$', or null.",
)
INVALID_TICKER_TYPE = E(-1139, "Invalid ticker type.")
INVALID_CANCEL_RESTRICTIONS = E(
    -1145, "`cancelRestrictions` has to be either `ONLY_NEW` or `ONLY_PARTIALLY_FILLED`."
)
DUPLICATE_SYMBOLS = E(-1151, "Symbol is present multiple times in the list.")
SBE_DISABLED = E(-1155, "SBE is not enabled.")
INVALID_TIME_UNIT = E(
    -1194, "Invalid value for time unit; expected either MICROSECOND or MILLISECOND."
)
INVALID_PEG_PRICE_TYPE = E(-1210, "Invalid pegPriceType.")
INVALID_PEG_OFFSET_TYPE = E(-1211, "Invalid pegOffsetType.")
SYMBOL_DOES_NOT_MATCH_STATUS = E(
    -1220, "The symbol's status does not match the requested symbolStatus."
)

# 20xx - Processing issues
NO_SUCH_ORDER = E(-2013, "Order does not exist.")
BAD_API_KEY_FMT = E(-2014, "API-key format invalid.", 401)
REJECTED_MBX_KEY = E(-2015, "Invalid API-key, IP, or permissions for action.", 401)
NO_TRADING_WINDOW = E(
    -2016, "No trading window could be found for the symbol. Try ticker/24hrs instead."
)
CANCEL_REPLACE_PARTIALLY_FAILED = E(-2021, "Order cancel-replace partially failed.", 409)
CANCEL_REPLACE_FAILED = E(-2022, "Order cancel-replace failed.")
ORDER_ARCHIVED = E(
    -2026,
    "Order was canceled or expired with no executed qty over 90 days ago and has been archived.",
)
SUBSCRIPTION_ACTIVE = E(-2035, "User Data Stream subscription already active.")
SUBSCRIPTION_INACTIVE = E(-2036, "User Data Stream subscription not active.")
CLIENT_ORDER_ID_INVALID = E(-2039, "Client order ID is not correct for this order ID.")
MAXIMUM_SUBSCRIPTION_IDS = E(-2042, "Maximum subscription ID reached for this connection.")
NO_REFERENCE_PRICE = E(-2043, "This symbol doesn't have a reference price.")

# errors.md, "Messages for -1010 ERROR_MSG_RECEIVED, -2010 NEW_ORDER_REJECTED, -2011
# CANCEL_REJECTED, and -2038 ORDER_AMEND_REJECTED": the matching engine's reasons.
NEW_ORDER_REJECTED = -2010
CANCEL_REJECTED = -2011
ORDER_AMEND_REJECTED = -2038


def rejection(code: int, message: str) -> ErrorSpec:
    """Return the catalog entry for a matching-engine rejection (`code` is -2010/-2011/-2038)."""
    return _REJECTIONS[(code, message)]


ENGINE_MESSAGES = (
    "Unknown order sent.",
    "Duplicate order sent.",
    "Market is closed.",
    "Account has insufficient balance for requested action.",
    "Market orders are not supported for this symbol.",
    "Iceberg orders are not supported for this symbol.",
    "Stop loss orders are not supported for this symbol.",
    "Stop loss limit orders are not supported for this symbol.",
    "Take profit orders are not supported for this symbol.",
    "Take profit limit orders are not supported for this symbol.",
    "Order amend is not supported for this symbol.",
    "Price * QTY is zero or less.",
    "IcebergQty exceeds QTY.",
    "This action is disabled on this account.",
    "This account may not place or cancel orders.",
    "Unsupported order combination",
    "Order would trigger immediately.",
    "Cancel order is invalid. Check origClOrdId and orderId.",
    "Order would immediately match and take.",
    "The relationship of the prices for the orders is not correct.",
    "OCO orders are not supported for this symbol",
    "Quote order qty market orders are not support for this symbol.",
    "Trailing stop orders are not supported for this symbol.",
    "Order cancel-replace is not supported for this symbol.",
    "This symbol is not permitted for this account.",
    "This symbol is restricted for this account.",
    "Order was not canceled due to cancel restrictions.",
    "Rest API trading is not enabled.",
    "WebSocket API trading is not enabled.",
    "FIX API trading is not enabled.",
    "Order book liquidity is less than `LOT_SIZE` filter minimum quantity.",
    "Order book liquidity is less than `MARKET_LOT_SIZE` filter minimum quantity.",
    "Order book liquidity is less than symbol minimum quantity.",
    "Order amend (quantity increase) is not supported.",
    "The requested action would change no state; rejecting",
    "Pegged orders are not supported for this symbol.",
    "This order type may not use pegged price.",
    "This price peg cannot be used with this order type.",
    "Order book liquidity is too low for this pegged order.",
    "OPO orders are not supported for this symbol.",
    "Order amend (pending OPO order) is not supported.",
)

_REJECTIONS: dict[tuple[int, str], ErrorSpec] = {
    (code, message): E(code, message)
    for code in (-1010, NEW_ORDER_REJECTED, CANCEL_REJECTED, ORDER_AMEND_REJECTED)
    for message in ENGINE_MESSAGES
}

INSUFFICIENT_BALANCE = rejection(
    NEW_ORDER_REJECTED, "Account has insufficient balance for requested action."
)
DUPLICATE_ORDER = rejection(NEW_ORDER_REJECTED, "Duplicate order sent.")
UNKNOWN_ORDER_CANCEL = rejection(CANCEL_REJECTED, "Unknown order sent.")


def rejection_error(code: int, message: str) -> BinanceError:
    """Return the error for an engine `CommandRejected(code, message)`, from its catalog entry.

    Matching-engine reasons (-1010/-2010/-2011/-2038) come from `rejection`; anything else
    (filter failures, -1102, -1111, -1121 ...) is the catalog entry whose template the message
    fills. A message with no entry is a bug (KeyError), answered -1006 by the pipeline.
    """
    entry = _REJECTIONS.get((code, message))
    if entry is not None:
        return entry.error()
    for spec in _templates().get(code, ()):
        parts = spec.message.split("%s")
        match = re.fullmatch("(.+?)".join(re.escape(part) for part in parts), message)
        if match is not None:
            return spec.error(*match.groups())
    raise KeyError(f"no catalog entry for engine rejection ({code}, {message!r})")


@functools.cache
def _templates() -> dict[int, list[ErrorSpec]]:
    by_code: dict[int, list[ErrorSpec]] = {}
    for spec in globals().values():
        if isinstance(spec, ErrorSpec):
            by_code.setdefault(spec.code, []).append(spec)
    return by_code
