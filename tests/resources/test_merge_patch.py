"""JSON Merge Patch (RFC 7386): the pure function and the PATCH route agree with the RFC."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missiond.core.resources import merge_patch

from .harness import Api

# RFC 7386, Appendix A: (original, patch, result), all fifteen rows in order.
APPENDIX_A = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]
APPENDIX_A_IDS = [
    "replaces-a-member",
    "adds-a-member",
    "null-removes-the-only-member",
    "null-removes-one-member",
    "string-replaces-array",
    "array-replaces-string",
    "nested-object-merges-and-removes",
    "array-replaces-array-of-objects",
    "array-patch-replaces-array",
    "array-patch-replaces-object",
    "null-patch-replaces-document",
    "string-patch-replaces-object",
    "existing-null-member-is-kept",
    "object-patch-replaces-array-and-drops-nulls",
    "nested-null-in-new-member-leaves-empty-object",
]
OBJECT_PATCH_ROWS = [
    pytest.param(*row, id=row_id)
    for row, row_id in zip(APPENDIX_A, APPENDIX_A_IDS, strict=True)
    if isinstance(row[1], dict)
]


@pytest.mark.parametrize(("original", "patch", "result"), APPENDIX_A, ids=APPENDIX_A_IDS)
def test_merge_patch_gives_the_rfc_7386_appendix_a_result(original: Any, patch: Any, result: Any) -> None:
    assert merge_patch(original, patch) == result


@pytest.mark.parametrize(("original", "patch", "result"), OBJECT_PATCH_ROWS)
def test_http_patch_gives_the_rfc_7386_appendix_a_result(
    api: Api, original: Any, patch: Any, result: Any
) -> None:
    assert api.put("project/rfc", {"value": original}).status_code == 201

    answer = api.patch("project/rfc", patch)

    assert answer.status_code == 200, answer.text
    assert answer.json()["value"] == result
    assert api.client.get("/v1/resources/project/rfc").json()["value"] == result


# -- properties --------------------------------------------------------------------------------
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=5)
names = st.sampled_from(["a", "b", "c", "d"])
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=12,
)
objects = st.dictionaries(names, json_values, max_size=4)


def _without_null_members(value: Any) -> bool:
    """True when no object anywhere in `value` (outside arrays) has a null member."""
    if isinstance(value, dict):
        return all(v is not None and _without_null_members(v) for v in value.values())
    return True


def object_diff(target: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns `target` into `wanted` (both objects)."""
    patch: dict[str, Any] = {name: None for name in target if name not in wanted}
    for name, value in wanted.items():
        if name not in target:
            patch[name] = value
        elif isinstance(target[name], dict) and isinstance(value, dict):
            nested = object_diff(target[name], value)
            if nested:
                patch[name] = nested
        elif target[name] != value:
            patch[name] = value
    return patch


@settings(max_examples=200, deadline=None)
@given(target=json_values, patch=json_values)
def test_merge_patch_never_mutates_its_inputs(target: Any, patch: Any) -> None:
    target_before, patch_before = copy.deepcopy(target), copy.deepcopy(patch)

    merge_patch(target, patch)

    assert target == target_before
    assert patch == patch_before


@settings(max_examples=200, deadline=None)
@given(target=json_values, patch=json_values)
def test_applying_a_merge_patch_twice_equals_applying_it_once(target: Any, patch: Any) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


@settings(max_examples=200, deadline=None)
@given(target=objects, wanted=objects.filter(_without_null_members))
def test_patching_with_the_object_diff_gives_the_wanted_object(
    target: dict[str, Any], wanted: dict[str, Any]
) -> None:
    assert merge_patch(target, object_diff(target, wanted)) == wanted


@settings(max_examples=100, deadline=None)
@given(target=json_values)
def test_an_empty_object_patch_keeps_an_object_and_replaces_anything_else_with_one(target: Any) -> None:
    assert merge_patch(target, {}) == (target if isinstance(target, dict) else {})


@settings(max_examples=100, deadline=None)
@given(target=json_values, patch=json_values.filter(lambda p: not isinstance(p, dict)))
def test_a_patch_that_is_not_an_object_replaces_the_whole_target(target: Any, patch: Any) -> None:
    assert merge_patch(target, patch) == patch
