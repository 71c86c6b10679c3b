"""The pure rules of the event spine: types, namespaces, subjects, cursors, timestamps, filters."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missiond.core.events import (
    MAX_SUBJECT_LEN,
    Event,
    EventFilter,
    decode_cursor,
    encode_cursor,
    event_type_problem,
    format_ts,
    from_us,
    is_reserved_type,
    subject_problem,
    to_us,
)

# -- event types ----------------------------------------------------------------------------

VALID_TYPES = [
    pytest.param("a.b", id="two-segments"),
    pytest.param("session.run.started", id="three-segments"),
    pytest.param("a.b.c.d.e.f.g.h", id="eight-segments"),
    pytest.param("tool_call.finished", id="underscore-inside"),
    pytest.param("run2.step10.done", id="digits-after-first-letter"),
    pytest.param("x.y_", id="trailing-underscore-in-segment"),
]

INVALID_TYPES = [
    pytest.param("", id="empty"),
    pytest.param("session", id="one-segment"),
    pytest.param("a.b.c.d.e.f.g.h.i", id="nine-segments"),
    pytest.param("Session.run", id="upper-case"),
    pytest.param("session.Run", id="upper-case-later-segment"),
    pytest.param("1session.run", id="leading-digit"),
    pytest.param("session.2run", id="segment-leading-digit"),
    pytest.param("_session.run", id="leading-underscore"),
    pytest.param("session..run", id="empty-segment"),
    pytest.param(".session.run", id="leading-dot"),
    pytest.param("session.run.", id="trailing-dot"),
    pytest.param("session-run.started", id="hyphen"),
    pytest.param("session run.started", id="space"),
    pytest.param("séance.run", id="non-ascii"),
    pytest.param("session/run.started", id="slash"),
    pytest.param("session.run.started\n", id="trailing-newline"),
]


@pytest.mark.parametrize("event_type", VALID_TYPES)
def test_well_formed_event_types_have_no_problem(event_type: str) -> None:
    assert event_type_problem(event_type) is None


@pytest.mark.parametrize("event_type", INVALID_TYPES)
def test_malformed_event_types_are_explained(event_type: str) -> None:
    problem = event_type_problem(event_type)
    assert problem is not None
    assert "dotted lower case" in problem


# -- reserved namespaces --------------------------------------------------------------------

SERVER_NAMESPACES = [
    "resource",
    "task",
    "mission",
    "work",
    "review",
    "test",
    "gate",
    "routine",
    "approval",
    "memory",
    "lock",
    "agent",
    "artifact",
    "spine",
    "system",
]


@pytest.mark.parametrize("namespace", SERVER_NAMESPACES, ids=SERVER_NAMESPACES)
def test_every_namespace_the_spec_names_is_reserved(namespace: str) -> None:
    assert is_reserved_type(f"{namespace}.something_happened")


@pytest.mark.parametrize(
    ("event_type", "reserved"),
    [
        ("session.run.started", False),
        ("tool.call.finished", False),
        ("resources.updated", False),
        ("tasks.created", False),
        ("my_resource.updated", False),
        ("resource.updated", True),
        ("task.created.again", True),
    ],
    ids=[
        "session-is-open",
        "tool-is-open",
        "plural-of-reserved-is-open",
        "plural-task-is-open",
        "reserved-as-suffix-is-open",
        "resource-is-reserved",
        "deep-task-is-reserved",
    ],
)
def test_only_the_first_segment_decides_whether_a_type_is_reserved(event_type: str, reserved: bool) -> None:
    assert is_reserved_type(event_type) is reserved


# -- subjects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["resource/project/x", "s", "task/tsk_01J", "x" * MAX_SUBJECT_LEN, "ünïcode/路径", "a b/c%_\\"],
    ids=["path", "one-char", "task", "longest", "unicode", "spaces-and-wildcards"],
)
def test_acceptable_subjects_have_no_problem(subject: str) -> None:
    assert subject_problem(subject) is None


@pytest.mark.parametrize(
    ("subject", "words"),
    [
        ("", "empty"),
        ("x" * (MAX_SUBJECT_LEN + 1), "at most 512"),
        ("session/a\nb", "control"),
        ("session/a\tb", "control"),
        ("session/\x00", "control"),
        ("session/\x7f", "control"),
    ],
    ids=["empty", "too-long", "newline", "tab", "nul", "delete"],
)
def test_unacceptable_subjects_are_explained(subject: str, words: str) -> None:
    problem = subject_problem(subject)
    assert problem is not None
    assert words in problem


# -- cursors --------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_a_cursor_decodes_to_the_seq_it_encodes(seq: int) -> None:
    cursor = encode_cursor(seq)
    assert decode_cursor(cursor) == seq
    assert "=" not in cursor
    assert base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))  # url-safe alphabet


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


GARBAGE_CURSORS = [
    ("", "empty"),
    ("not a cursor", "words"),
    ("%%%", "not-base64"),
    ("AAAA", "zero-bytes"),
    (_b64("s2:5"), "other-version"),
    (_b64("s1:"), "no-number"),
    (_b64("s1:-1"), "negative"),
    (_b64("s1:+1"), "plus-sign"),
    (_b64("s1:1.5"), "fraction"),
    (_b64("s1:1 "), "trailing-space"),
    (_b64("s1:abc"), "letters"),
    (base64.urlsafe_b64encode(b"s1:\xff\xfe").decode(), "invalid-utf8"),
    (_b64("12"), "bare-number"),
]


@pytest.mark.parametrize("cursor", [c for c, _ in GARBAGE_CURSORS], ids=[i for _, i in GARBAGE_CURSORS])
def test_garbage_cursors_decode_to_none(cursor: str) -> None:
    assert decode_cursor(cursor) is None


def test_a_cursor_holding_a_superscript_digit_decodes_to_none() -> None:
    assert decode_cursor(_b64("s1:²")) is None


@given(st.binary(max_size=64).filter(lambda raw: not raw.startswith(b"s1:")))
def test_cursors_not_made_by_us_decode_to_none(raw: bytes) -> None:
    assert decode_cursor(base64.urlsafe_b64encode(raw).decode()) is None


# -- timestamps -----------------------------------------------------------------------------

# One day inside datetime's range on both ends, so that any UTC offset stays representable.
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.one_of(
        st.timezones(),
        st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
            lambda minutes: timezone(timedelta(minutes=minutes))
        ),
    ),
)


@given(aware_datetimes)
def test_microseconds_round_trip_to_the_same_instant_in_utc(moment: datetime) -> None:
    back = from_us(to_us(moment))
    assert back == moment.astimezone(UTC)
    assert back.tzinfo is UTC


@given(st.integers(min_value=-(10**15), max_value=10**17))
def test_microseconds_survive_a_trip_through_datetime(micros: int) -> None:
    assert to_us(from_us(micros)) == micros


def test_the_epoch_is_zero_microseconds() -> None:
    assert to_us(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert to_us(datetime(1970, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == 0


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_us(datetime(2026, 11, 21, 18, 26))


def test_timestamps_format_as_utc_with_microseconds() -> None:
    moment = datetime(2026, 11, 21, 19, 26, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert format_ts(moment) == "2026-11-21T18:26:00.123456Z"


# -- filters --------------------------------------------------------------------------------

T0 = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def _event(type_: str = "session.run.started", subject: str = "session/abc", at: datetime = T0) -> Event:
    return Event(
        seq=1,
        id="evt_1",
        type=type_,
        subject=subject,
        ts=at,
        actor="user:admin",
        correlation_id="cor_1",
        causation_id=None,
        data={},
        v=1,
    )


FILTER_CASES = [
    (EventFilter(), _event(), True, "empty-filter-matches-all"),
    (EventFilter(types=("session.",)), _event(), True, "type-namespace-prefix"),
    (EventFilter(types=("session.run.started",)), _event(), True, "type-exact"),
    (EventFilter(types=("tool.", "session.run")), _event(), True, "any-type-prefix-matches"),
    (EventFilter(types=("tool.",)), _event(), False, "other-type"),
    (EventFilter(types=("Session.",)), _event(), False, "type-prefix-is-case-sensitive"),
    (EventFilter(subjects=("session/",)), _event(), True, "subject-prefix"),
    (EventFilter(subjects=("task/", "session/ab")), _event(), True, "any-subject-prefix-matches"),
    (EventFilter(subjects=("session/abcd",)), _event(), False, "longer-subject-prefix"),
    (EventFilter(subjects=("session/a_c",)), _event(), False, "underscore-is-literal"),
    (EventFilter(subjects=("session/%",)), _event(), False, "percent-is-literal"),
    (EventFilter(types=("session.",), subjects=("task/",)), _event(), False, "both-must-match"),
    (EventFilter(since_us=to_us(T0)), _event(), True, "since-is-inclusive"),
    (EventFilter(since_us=to_us(T0) + 1), _event(), False, "before-since"),
    (EventFilter(until_us=to_us(T0)), _event(), False, "until-is-exclusive"),
    (EventFilter(until_us=to_us(T0) + 1), _event(), True, "before-until"),
    (
        EventFilter(since_us=to_us(T0 - timedelta(hours=1)), until_us=to_us(T0 + timedelta(hours=1))),
        _event(at=T0.astimezone(timezone(timedelta(hours=5)))),
        True,
        "window-with-offset-timestamp",
    ),
]


@pytest.mark.parametrize(
    ("flt", "event", "expected"),
    [(f, e, x) for f, e, x, _ in FILTER_CASES],
    ids=[i for *_, i in FILTER_CASES],
)
def test_a_filter_matches_by_type_prefix_subject_prefix_and_time_window(
    flt: EventFilter, event: Event, expected: bool
) -> None:
    assert flt.matches(event) is expected
