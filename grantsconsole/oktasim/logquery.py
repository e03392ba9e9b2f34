"""System Log queries: ``GET /api/v1/logs`` parameters, SCIM filter, cursors.

Okta's rules (docs/okta-api.md §6, DOCS-SYSLOG): a *polling* request (ascending,
no ``until``) returns events in persistence order and always carries a
``rel="next"`` link, even on an empty page; a *bounded* request (``until``) or a
descending one is ordered by ``published``, finite, and links ``next`` only while
more remain. ``since`` defaults to 7 days before ``until``; more than 180 days ago
is 400 E0000053; events older than 90 days are not returned. ``limit`` 0-1000
(default 100). ``filter`` is SCIM (eq ne gt ge lt le sw co ew pr, and or not, ()),
but not on ``published``; ``q`` is up to 10 case-insensitive keywords of ≤ 40 chars.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from operator import attrgetter

from .state import LogEvent
from .web import HttpError

RETENTION = 90 * 86400
MAX_SINCE_AGE = 180 * 86400
DEFAULT_SINCE = 7 * 86400


@dataclass(slots=True)
class Page:
    """One page of events and the query parameters of its next link (or None)."""

    events: list[LogEvent]
    next_params: dict[str, str] | None


def bad_param(msg: str) -> HttpError:
    """Okta's 400 E0000053 'Invalid parameter: …' for a System Log parameter."""
    return HttpError(400, "E0000053", f"Invalid parameter: {msg}", [msg])


def iso_to_epoch(value: str, name: str) -> float:
    """ISO-8601 -> UTC epoch seconds; HttpError 400 naming the parameter."""
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_param(
            f"The {name} parameter is not a valid ISO 8601 date-time."
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def cursor_of(ev: LogEvent) -> str:
    """The ``after`` cursor of an event: ``<published ms>_<seq>``."""
    return f"{int(ev.published * 1000)}_{ev.seq}"


def parse_cursor(value: str) -> tuple[int, int]:
    """(published ms, seq) of a cursor; HttpError 400 E0000029 if malformed."""
    m = re.fullmatch(r"(-?\d+)_(\d+)", value)
    if not m:
        raise HttpError(400, "E0000029", "Invalid paging request.", ["Invalid cursor."])
    return int(m.group(1)), int(m.group(2))


def query(events: list[LogEvent], q: dict[str, str], now: float) -> Page:
    """Run one /api/v1/logs request over ``events`` (persistence order, seq = index+1)."""
    try:
        limit = int(q.get("limit", "100"))
    except ValueError:
        raise bad_param("The limit parameter must be an integer.") from None
    if not 0 <= limit <= 1000:
        raise bad_param("The limit parameter must be between 0 and 1000.")
    order = q.get("sortOrder", "ASCENDING").upper()
    if order not in ("ASCENDING", "DESCENDING"):
        raise bad_param("The sortOrder parameter must be ASCENDING or DESCENDING.")
    until = iso_to_epoch(q["until"], "until") if q.get("until") else None
    since = iso_to_epoch(q["since"], "since") if q.get("since") else None
    if since is not None and since < now - MAX_SINCE_AGE:
        raise bad_param(
            "The since parameter is over 180 days prior to the current day."
        )
    if since is not None and until is not None and since > until:
        raise bad_param("The since parameter must be earlier than the until parameter.")
    pred = compile_filter(q.get("filter")) if q.get("filter") else None
    kw = keywords(q.get("q")) if q.get("q") else None
    floor = now - RETENTION

    # Every index scanned below is at or after ``first`` (the retention floor),
    # so the per-event test is the filter alone unless there are keywords.
    ok = pred or _always
    if kw is not None:
        ok = _with_keywords(ok, kw)

    keep = {k: v for k, v in q.items() if k in ("filter", "q", "limit", "sortOrder")}
    after = q.get("after")
    cursor_seq = parse_cursor(after)[1] if after is not None else None
    # Events are kept in published order (seq follows it), so bisect finds windows.
    first = bisect.bisect_left(events, floor, key=_published)
    if order == "ASCENDING" and until is None:
        # Polling: always a next link, even on an empty page.
        if cursor_seq is not None:
            start = max(min(cursor_seq, len(events)), first)
        else:
            lower = since if since is not None else now - DEFAULT_SINCE
            start = max(bisect.bisect_left(events, lower, key=_published), first)
        out = list(islice(filter(ok, islice(events, start, None)), limit))
        if limit and len(out) == limit:
            last_seq = out[-1].seq
        else:  # scanned to the end (or limit=0: stay put)
            last_seq = max(len(events), start) if limit else start
        stamp = out[-1].published if out else now
        return Page(out, {**keep, "after": f"{int(stamp * 1000)}_{last_seq}"})
    # Bounded or descending: ordered by published, finite.
    hi = until if until is not None else now
    lo = since if since is not None else hi - DEFAULT_SINCE
    lo_i = max(bisect.bisect_left(events, lo, key=_published), first)
    hi_i = bisect.bisect_left(events, hi, key=_published)
    if order == "DESCENDING":
        if cursor_seq is not None:
            hi_i = min(hi_i, cursor_seq - 1)
        indexes = range(hi_i - 1, lo_i - 1, -1)
    else:
        if cursor_seq is not None:
            lo_i = max(lo_i, cursor_seq)
        indexes = range(lo_i, hi_i)
    page: list[LogEvent] = []
    more = False
    for idx in indexes:
        ev = events[idx]
        if ok(ev):
            if len(page) == limit:
                more = True
                break
            page.append(ev)
    nxt = None
    if more and page:
        nxt = {**keep, "after": cursor_of(page[-1])}
        for k in ("since", "until"):
            if q.get(k):
                nxt[k] = q[k]
    return Page(page, nxt)


def _published(ev: LogEvent) -> float:
    return ev.published


def _always(ev: LogEvent) -> bool:
    return True


def _with_keywords(pred, words: list[str]):
    return lambda ev: pred(ev) and matches_keywords(ev, words)


def keywords(q: str) -> list[str]:
    """The ``q`` keywords, lower-cased; 400 E0000053 past 10 or 40 chars."""
    words = q.split()
    if len(words) > 10 or any(len(w) > 40 for w in words):
        raise bad_param(
            "The q parameter allows at most 10 keywords of at most 40 characters."
        )
    return [w.lower() for w in words]


def matches_keywords(ev: LogEvent, words: list[str]) -> bool:
    """True if every keyword occurs in the event's type, message, actor or targets."""
    hay = " ".join(
        [
            ev.event_type,
            ev.display_message,
            ev.actor.id,
            ev.actor.alternate_id,
            ev.actor.display_name,
            *(" ".join(t) for t in ev.targets),
        ]
    ).lower()
    return all(w in hay for w in words)


# --- SCIM filter -------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<lp>\()|(?P<rp>\))|(?P<word>[A-Za-z_][\w.]*)'
    r"|(?P<num>-?\d+(?:\.\d+)?))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le", "sw", "co", "ew", "pr"}


def _targets(i: int):
    return lambda ev: [t[i] for t in ev.targets]


# Filterable attribute -> its getter: one value (None when absent) from an
# ``attrgetter``, or a list of values (``target.*``). Chosen once per filter: a
# filtered page may scan the whole log (200,000 events and more), so the
# per-event work is one C-level attribute read and one comparison.
_SCALARS = {
    "eventType": attrgetter("event_type"),
    "uuid": attrgetter("uuid"),
    "displayMessage": attrgetter("display_message"),
    "severity": attrgetter("severity"),
    "outcome.result": attrgetter("outcome"),
    "outcome.reason": attrgetter("reason"),
    "actor.id": attrgetter("actor.id"),
    "actor.type": attrgetter("actor.type"),
    "actor.alternateId": attrgetter("actor.alternate_id"),
    "actor.displayName": attrgetter("actor.display_name"),
    "client.id": attrgetter("client_id"),
    "client.ipAddress": lambda ev: "127.0.0.1",
    "transaction.id": attrgetter("request_id"),
    "transaction.detail.requestApiTokenId": attrgetter("api_token_id"),
    "debugContext.debugData.requestId": attrgetter("request_id"),
    "debugContext.debugData.requestUri": attrgetter("request_uri"),
    "legacyEventType": lambda ev: None,
}
_LISTS = {
    "target.id": _targets(0),
    "target.type": _targets(1),
    "target.alternateId": _targets(2),
    "target.displayName": _targets(3),
}


def _getter(attr: str):
    """(getter, is a list) of a filterable attribute; HttpError 400 E0000031 if
    unknown."""
    if attr in _SCALARS:
        return _SCALARS[attr], False
    if attr in _LISTS:
        return _LISTS[attr], True
    raise HttpError(
        400,
        "E0000031",
        "Invalid search criteria.",
        [f"filter: The attribute '{attr}' is not supported."],
    )


def compile_filter(text: str):
    """A predicate over LogEvent for a SCIM filter; HttpError 400 E0000031 if invalid."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise HttpError(
                400,
                "E0000031",
                "Invalid search criteria.",
                [f"filter: Unexpected input at position {pos}."],
            )
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    i = 0

    def fail(msg: str) -> HttpError:
        return HttpError(
            400, "E0000031", "Invalid search criteria.", [f"filter: {msg}"]
        )

    def peek() -> tuple[str, str] | None:
        return tokens[i] if i < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal i
        if i >= len(tokens):
            raise fail("Unexpected end of filter.")
        i += 1
        return tokens[i - 1]

    def expr():
        left = term()
        while (t := peek()) and t[0] == "word" and t[1].lower() == "or":
            take()
            right = term()
            left = (lambda a, b: lambda ev: a(ev) or b(ev))(left, right)
        return left

    def term():
        left = factor()
        while (t := peek()) and t[0] == "word" and t[1].lower() == "and":
            take()
            right = factor()
            left = (lambda a, b: lambda ev: a(ev) and b(ev))(left, right)
        return left

    def factor():
        t = take()
        if t[0] == "word" and t[1].lower() == "not":
            inner = factor()
            return lambda ev: not inner(ev)
        if t[0] == "lp":
            inner = expr()
            if take()[0] != "rp":
                raise fail("Missing ')'.")
            return inner
        if t[0] != "word":
            raise fail(f"Expected an attribute, got {t[1]}.")
        attr = t[1]
        if attr == "published":
            raise fail(
                "The published attribute cannot be filtered; use since and until."
            )
        op_t = take()
        op = op_t[1].lower()
        if op_t[0] != "word" or op not in _OPS:
            raise fail(f"Unknown operator {op_t[1]}.")
        get, many = _getter(attr)
        if op == "pr":
            if many:
                return lambda ev: bool(get(ev))
            return lambda ev: get(ev) is not None
        v = take()
        if v[0] == "str":
            value = v[1][1:-1].replace('\\"', '"')
        elif v[0] in ("num", "word"):
            value = v[1]
        else:
            raise fail("Expected a value.")
        if not many and op == "eq":  # the common case, e.g. eventType eq "…"
            return lambda ev: get(ev) == value
        if not many and op == "ne":
            return lambda ev: get(ev) != value
        cmp = {
            "eq": lambda a: a == value,
            "ne": lambda a: a != value,
            "sw": lambda a: a.startswith(value),
            "ew": lambda a: a.endswith(value),
            "co": lambda a: value in a,
            "gt": lambda a: a > value,
            "ge": lambda a: a >= value,
            "lt": lambda a: a < value,
            "le": lambda a: a <= value,
        }[op]
        if not many:
            return lambda ev: (a := get(ev)) is not None and cmp(a)
        if op == "ne":
            return lambda ev: all(cmp(x) for x in get(ev))
        return lambda ev: any(cmp(x) for x in get(ev))

    pred = expr()
    if i != len(tokens):
        raise fail(f"Unexpected {tokens[i][1]}.")
    return pred
