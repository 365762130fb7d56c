"""Example JSON out of the Binance docs, and a key-by-key, type-by-type shape comparison.

The docs are the recording we have (STYLE.md, "Tests"): `web-socket-api.md` and `rest-api.md`
print one request example and one `**Response:**` example per method, as ```javascript blocks
holding JSON plus `// comments` and the odd trailing comma. `section()` finds a method's part of
a document by its heading; `request_example()` / `response_example()` / `code_blocks()` parse
the blocks in it.

Where the docs live: a `shared/binance-spot-docs` directory next to the clone (CI mounts
`shared/` read-only beside the checkout); `docs_dir()` walks up from this file to find it and
skips the calling test when it is absent.

`assert_same_shape(actual, expected)` is the contract: objects have the same keys in the same
order, values the same JSON type, string-encoded decimals stay string-encoded decimals (with
the example's number of decimals where the example is zero-padded to a fixed precision, as
symbol-precision values such as "0.10000000" are), and lists are compared element by element
with the example's element. Values themselves are not compared -- ids, times and counts are
volatile, and the docs' symbols are not ours; tests compare the few constant values they care
about separately. Every departure a test accepts is passed in by path *with its reason*, so the
list of known differences is written where it is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

WS_API = "web-socket-api.md"
REST_API = "rest-api.md"
FILTERS = "filters.md"

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_FENCE_RE = re.compile(r"^\s*```\s*([\w+-]*)\s*$")
_DECIMAL_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_INDEX_RE = re.compile(r"\[\d+\]")


# --- finding the docs -------------------------------------------------------------------------


def find_docs_dir(start: Path | None = None) -> Path | None:
    """Return `.../shared/binance-spot-docs/testnet` found walking up from `start`, or None."""
    here = (start or Path(__file__)).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "binance-spot-docs" / "testnet"
        if (candidate / WS_API).is_file():
            return candidate
    return None


def docs_dir() -> Path:
    """Return the testnet docs directory; skip the calling test if there is none."""
    found = find_docs_dir()
    if found is None:
        pytest.skip("shared/binance-spot-docs not found next to the repository")
    return found


@cache
def _read(name: str) -> tuple[str, ...]:
    return tuple((docs_dir() / name).read_text(encoding="utf-8").splitlines())


# --- sections and code blocks -----------------------------------------------------------------


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: language tag, text, the prose line before it, its 1-based line."""

    language: str
    text: str
    lead: str
    line: int

    def json(self) -> Any:
        """Parse the block as JSON after removing comments and trailing commas."""
        try:
            return parse_js_json(self.text)
        except ValueError as exc:
            raise ValueError(f"docs example at line {self.line}: {exc}") from exc


@dataclass(frozen=True)
class Section:
    """The lines of a document under one heading, up to the next heading of the same level."""

    document: str
    title: str
    lines: tuple[str, ...]
    first_line: int

    def blocks(self) -> list[CodeBlock]:
        """Return the fenced code blocks of the section, in order."""
        blocks: list[CodeBlock] = []
        lead = ""
        body: list[str] | None = None
        language = ""
        start = 0
        for offset, line in enumerate(self.lines):
            fence = _FENCE_RE.match(line)
            if body is None:
                if fence:
                    body, language, start = [], fence.group(1), offset
                elif line.strip():
                    lead = line.strip()
            elif fence and not fence.group(1):
                blocks.append(
                    CodeBlock(language, "\n".join(body), lead, self.first_line + start + 1)
                )
                body, lead = None, ""
            else:
                body.append(line)
        return blocks


def section(document: str, title: str) -> Section:
    """Return the section of `document` whose heading text is exactly `title`."""
    lines = _read(document)
    in_fence = False
    start: int | None = None
    level = 0
    for number, line in enumerate(lines):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING_RE.match(line)
        if heading is None:
            continue
        if start is None:
            if heading.group(2) == title:
                start, level = number, len(heading.group(1))
        elif len(heading.group(1)) <= level:
            return Section(document, title, lines[start + 1 : number], start + 1)
    if start is None:
        raise LookupError(f"{document}: no heading {title!r}")
    return Section(document, title, lines[start + 1 :], start + 1)


def code_blocks(document: str, title: str) -> list[CodeBlock]:
    """Return the code blocks of a section."""
    return section(document, title).blocks()


def request_example(title: str) -> Any:
    """Return the request example of a WebSocket API method (the first JSON block)."""
    for block in code_blocks(WS_API, title):
        if block.language in ("javascript", "json"):
            return block.json()
    raise LookupError(f"{WS_API} {title!r}: no request example")


def rest_endpoint(title: str) -> tuple[str, str]:
    """Return (HTTP method, path) of a REST endpoint section, e.g. ("GET", "/api/v3/ping")."""
    for block in code_blocks(REST_API, title):
        words = block.text.split()
        if block.language == "" and len(words) == 2 and words[1].startswith("/"):
            return words[0], words[1]
    raise LookupError(f"{REST_API} {title!r}: no endpoint line")


def response_example(document: str, title: str, index: int = 0) -> Any:
    """Return the `index`-th block from the section's `**Response:**` example on, parsed."""
    blocks = code_blocks(document, title)
    for position, block in enumerate(blocks):
        if block.lead == "**Response:**":
            return blocks[position + index].json()
    raise LookupError(f"{document} {title!r}: no **Response:** example")


def filter_example(filter_type: str) -> Any:
    """Return the `/exchangeInfo format` example of a filter from filters.md."""
    return code_blocks(FILTERS, filter_type)[0].json()


# --- JavaScript-ish JSON ----------------------------------------------------------------------


def strip_comments(text: str) -> str:
    """Remove `// line` and `/* block */` comments that are outside JSON strings."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        char = text[i]
        if in_string:
            out.append(char)
            if char == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if char == '"':
                in_string = False
            i += 1
        elif char == '"':
            in_string = True
            out.append(char)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def strip_trailing_commas(text: str) -> str:
    """Remove a comma that is followed (after whitespace) by `}` or `]`, outside strings."""
    out: list[str] = []
    in_string = False
    escaped = False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == ",":
            rest = text[i + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                continue
        out.append(char)
    return "".join(out)


def parse_js_json(text: str) -> Any:
    """Parse a docs example: JSON with comments and trailing commas; keeps key order."""
    cleaned = strip_trailing_commas(strip_comments(text))
    return json.loads(cleaned, object_pairs_hook=_no_duplicates)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = {key for key in keys if keys.count(key) > 1}
    if duplicated:
        raise ValueError(f"duplicate keys in example: {sorted(duplicated)}")
    return dict(pairs)


# --- shape comparison -------------------------------------------------------------------------


def json_type(value: Any) -> str:
    """Name the JSON type of a decoded value (bool is not a number; Decimal is)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float | Decimal):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def pattern_of(path: str) -> str:
    """Turn a concrete path (`result.symbols[0].filters[2]`) into its pattern (`[]` indices)."""
    return _INDEX_RE.sub("[]", path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fail(path: str, message: str) -> None:
    raise AssertionError(f"at {path or '<root>'}: {message}")


def assert_same_shape(
    actual: Any,
    expected: Any,
    path: str = "",
    *,
    absent: Mapping[str, str] | None = None,
    may_be_empty: Mapping[str, str] | None = None,
    unchecked: Mapping[str, str] | None = None,
    element_examples: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Assert `actual` has the shape of the docs example `expected`.

    - objects: the same keys in the same order; a documented key may be missing only if its
      path is in `absent` (path -> reason);
    - scalars: the same JSON type (int, float, str, bool, null); a decimal string stays a
      decimal string, with as many decimals as the example when the example is zero-padded
      (ends in 0 after the point, i.e. printed at a fixed precision);
    - lists: every actual element against the example's first element. An empty example list
      gives nothing to compare with (the docs write `[]` or `[ // All filters are optional ]`
      for content they do not show), so only the type is checked. An empty actual list
      against a non-empty example fails unless its path is in `may_be_empty` (path -> reason);
    - `element_examples` maps a list's path (`result.symbols[].filters`) to {tag: example}
      for lists of tagged objects
      (filters by `filterType`, the examples' first key): each element is compared with the
      example of its own tag, which must exist, even where the docs' list is empty;
    - a path in `unchecked` (path -> reason) is not compared below that point.

    Paths use `[]` for list indices in these mappings (`result.symbols[].rules`, the items of
    a list being `...rules[]`); failure messages name the concrete path.
    """
    options = _Options(absent or {}, may_be_empty or {}, unchecked or {}, element_examples or {})
    _compare(actual, expected, path, options)


@dataclass(frozen=True)
class _Options:
    absent: Mapping[str, str]
    may_be_empty: Mapping[str, str]
    unchecked: Mapping[str, str]
    element_examples: Mapping[str, Mapping[str, Any]]


def _compare(actual: Any, expected: Any, path: str, options: _Options) -> None:
    if pattern_of(path) in options.unchecked:
        return
    want, got = json_type(expected), json_type(actual)
    if want != got:
        _fail(path, f"type {got} ({actual!r:.80}) where the docs show {want} ({expected!r:.80})")
    if want == "object":
        _compare_object(actual, expected, path, options)
    elif want == "list":
        _compare_list(actual, expected, path, options)
    elif want == "str":
        _compare_string(actual, expected, path)


def _compare_object(
    actual: dict[str, Any], expected: dict[str, Any], path: str, o: _Options
) -> None:
    wanted = [
        k for k in expected if not (k not in actual and pattern_of(_join(path, k)) in o.absent)
    ]
    if list(actual) != wanted:
        missing = [k for k in wanted if k not in actual]
        extra = [k for k in actual if k not in wanted]
        _fail(
            path,
            f"keys {list(actual)} where the docs show {list(expected)}"
            f" (missing {missing}, extra {extra}; otherwise an ordering difference)",
        )
    for key in wanted:
        _compare(actual[key], expected[key], _join(path, key), o)


def _compare_list(actual: list[Any], expected: list[Any], path: str, o: _Options) -> None:
    examples = o.element_examples.get(pattern_of(path))
    if not actual:
        if expected and pattern_of(path) not in o.may_be_empty:
            _fail(path, f"empty list where the docs show {expected!r:.120}")
        return
    if examples is not None:
        tag_key = next(iter(next(iter(examples.values()))))
        for index, element in enumerate(actual):
            item_path = f"{path}[{index}]"
            tag = element.get(tag_key) if isinstance(element, dict) else None
            if tag not in examples:
                _fail(item_path, f"{tag_key}={tag!r} has no example to compare with")
            _compare(element, examples[tag], item_path, o)
        return
    if not expected:
        return
    for index, element in enumerate(actual):
        _compare(element, expected[0], f"{path}[{index}]", o)


def _compare_string(actual: str, expected: str, path: str) -> None:
    if not _DECIMAL_RE.match(expected):
        return
    if not _DECIMAL_RE.match(actual):
        _fail(path, f"{actual!r} is not a decimal string like the docs' {expected!r}")
    _, _, fraction = expected.partition(".")
    if fraction.endswith("0"):
        got = len(actual.partition(".")[2])
        if got != len(fraction):
            _fail(
                path,
                f"{actual!r} has {got} decimals; the docs print {expected!r} with {len(fraction)}",
            )
