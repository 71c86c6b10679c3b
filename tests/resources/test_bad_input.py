"""Bad input is refused with the right status and code, and a refused request changes nothing:
the spine head and every resource are identical before and after."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from .harness import MERGE_PATCH, Api, everything_over_http

BIG = "x" * (200 * 1024)  # under the 256 KiB value limit, but not with another 100 KiB


@pytest.fixture(scope="module")
def api(shared_api: Api) -> Api:
    """The module's app, holding `project/a` = {"n": 1} and `project/big` = {"text": 200 KiB}."""
    for key, value in (("project/a", {"n": 1}), ("project/big", {"text": BIG})):
        answer = shared_api.put(key, {"value": value})
        assert answer.status_code in (200, 201), answer.text
    return shared_api


def assert_refused(api: Api, send: Any, status: int, code: str) -> dict[str, Any]:
    before = api.everything()
    status_got, body = send()
    assert (status_got, body.get("code")) == (status, code), body
    assert body["status"] == status
    assert api.everything() == before, "a refused request changed something"
    return body


# -- keys ---------------------------------------------------------------------------------------
# Raw paths, sent byte for byte: a client that does not normalize '..' must still be refused.
BAD_KEYS = [
    pytest.param(b"bogus/a", "must start with one of", id="unknown-root"),
    pytest.param(b"project", "needs at least one segment", id="root-alone"),
    pytest.param(b"project/", "empty segment", id="root-with-slash"),
    pytest.param(b"project//b", "empty segment", id="empty-segment"),
    pytest.param(b"project/a/", "empty segment", id="trailing-slash"),
    pytest.param(b"//project/a", "must start with one of", id="two-leading-slashes"),
    pytest.param(b"project/../a", "'.' or '..'", id="dot-dot"),
    pytest.param(b"project/./a", "'.' or '..'", id="dot"),
    pytest.param(b"project/%2E%2E/a", "'.' or '..'", id="percent-encoded-dot-dot"),
    pytest.param(b"project/%00a", "control characters", id="nul-control-char"),
    pytest.param(b"project/a%0Ab", "control characters", id="newline-control-char"),
    pytest.param(b"project/" + b"a" * 505, "at most 512 bytes", id="513-bytes"),
    pytest.param(b"project/" + "é".encode() * 253, "at most 512 bytes", id="514-bytes-in-261-chars"),
]
BODIES = {"PUT": b'{"value": 1}', "PATCH": b'{"n": 2}', "DELETE": b"", "GET": b""}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "GET"])
@pytest.mark.parametrize(("raw_key", "problem"), BAD_KEYS)
def test_a_bad_key_is_refused_as_invalid_resource_key(
    api: Api, raw_key: bytes, problem: str, method: str
) -> None:
    def send() -> tuple[int, dict[str, Any]]:
        answer = api.raw(method, b"/v1/resources/" + raw_key, BODIES[method])
        return answer.status_code, answer.body

    body = assert_refused(api, send, 400, "INVALID_RESOURCE_KEY")
    assert problem in body["detail"]
    assert body["errors"][0]["field"] == "key"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_an_empty_key_in_the_path_addresses_the_collection_and_is_not_allowed(api: Api, method: str) -> None:
    # `/v1/resources/` is the list route (GET only); see the report: the contract names no answer.
    def send() -> tuple[int, dict[str, Any]]:
        answer = api.raw(method, b"/v1/resources/", BODIES[method])
        return answer.status_code, answer.body

    assert_refused(api, send, 405, "METHOD_NOT_ALLOWED")


# -- bodies, headers, query parameters ------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def send(self, api: Api) -> tuple[int, dict[str, Any]]:
        content = self.content if self.content is not None else json.dumps(self.body).encode()
        headers = {"Content-Type": "application/json", **self.headers}
        answer = api.client.request(
            self.method, self.path, content=content, headers=headers, params=self.params
        )
        return answer.status_code, answer.json()


def put(body: Any = None, **kwargs: Any) -> Call:
    return Call("PUT", "/v1/resources/project/a", body, **kwargs)


def patch(body: Any = None, key: str = "project/a", **kwargs: Any) -> Call:
    headers = {"Content-Type": MERGE_PATCH, **kwargs.pop("headers", {})}
    return Call("PATCH", f"/v1/resources/{key}", body, headers=headers, **kwargs)


def delete(key: str = "project/a", **kwargs: Any) -> Call:
    return Call("DELETE", f"/v1/resources/{key}", content=b"", **kwargs)


def txn(body: Any = None, **kwargs: Any) -> Call:
    return Call("POST", "/v1/resources:txn", body, **kwargs)


def put_op(key: str = "project/n", **extra: Any) -> dict[str, Any]:
    return {"op": "put", "key": key, "value": 1, **extra}


BAD_REQUESTS = [
    # not JSON
    pytest.param(put(content=b"{not json"), 400, "MALFORMED_JSON", id="put-malformed-json"),
    pytest.param(patch(content=b"{not json"), 400, "MALFORMED_JSON", id="patch-malformed-json"),
    pytest.param(patch(content=b""), 400, "MALFORMED_JSON", id="patch-empty-body"),
    pytest.param(txn(content=b'{"ops": ['), 400, "MALFORMED_JSON", id="txn-malformed-json"),
    # unknown fields, wrong types, out of range
    pytest.param(put({"value": 1, "bogus": 2}), 400, "VALIDATION_FAILED", id="put-unknown-field"),
    pytest.param(put({}), 400, "VALIDATION_FAILED", id="put-without-value"),
    pytest.param(put([1]), 400, "VALIDATION_FAILED", id="put-body-not-an-object"),
    pytest.param(
        put({"value": 1, "expected_rev": "one"}), 400, "VALIDATION_FAILED", id="put-expected-rev-string"
    ),
    pytest.param(
        put({"value": 1, "expected_rev": -1}), 400, "VALIDATION_FAILED", id="put-expected-rev-negative"
    ),
    pytest.param(
        put({"value": 1, "expected_rev": 1.5}), 400, "VALIDATION_FAILED", id="put-expected-rev-fraction"
    ),
    pytest.param(put({"value": 1, "ttl_s": 0}), 400, "VALIDATION_FAILED", id="put-ttl-zero"),
    pytest.param(put({"value": 1, "ttl_s": "soon"}), 400, "VALIDATION_FAILED", id="put-ttl-string"),
    pytest.param(put({"value": 1, "ttl_s": 1e12}), 400, "VALIDATION_FAILED", id="put-ttl-over-ten-years"),
    pytest.param(
        patch({"n": 2}, params={"expected_rev": -1}),
        400,
        "VALIDATION_FAILED",
        id="patch-expected-rev-negative",
    ),
    pytest.param(
        patch({"n": 2}, params={"expected_rev": "x"}),
        400,
        "VALIDATION_FAILED",
        id="patch-expected-rev-not-int",
    ),
    pytest.param(
        delete(params={"expected_rev": -1}), 400, "VALIDATION_FAILED", id="delete-expected-rev-negative"
    ),
    # headers
    pytest.param(
        put({"value": 1}, headers={"If-Match": "abc"}), 400, "VALIDATION_FAILED", id="if-match-garbage"
    ),
    pytest.param(
        put({"value": 1}, headers={"If-Match": '"-1"'}), 400, "VALIDATION_FAILED", id="if-match-negative"
    ),
    pytest.param(delete(headers={"If-Match": '"1", "2"'}), 400, "VALIDATION_FAILED", id="if-match-list"),
    pytest.param(
        put({"value": 1}, headers={"If-None-Match": '"1"'}), 400, "VALIDATION_FAILED", id="if-none-match-etag"
    ),
    pytest.param(
        patch({"n": 2}, headers={"Content-Type": "text/plain"}),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        id="patch-text-plain",
    ),
    pytest.param(
        patch({"n": 2}, headers={"Content-Type": "application/json-patch+json"}),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        id="patch-json-patch-media-type",
    ),
    # sizes
    pytest.param(put({"value": "x" * (256 * 1024)}), 413, "VALUE_TOO_LARGE", id="put-value-over-256-kib"),
    pytest.param(
        patch({"more": "y" * (100 * 1024)}, key="project/big"),
        413,
        "VALUE_TOO_LARGE",
        id="patch-result-over-256-kib",
    ),
    pytest.param(
        txn({"ops": [put_op(value="x" * (300 * 1024))]}), 413, "VALUE_TOO_LARGE", id="txn-value-over-256-kib"
    ),
    pytest.param(put({"value": "x" * (2 * 1024 * 1024)}), 413, "PAYLOAD_TOO_LARGE", id="body-over-1-mib"),
    # transactions
    pytest.param(txn({}), 400, "VALIDATION_FAILED", id="txn-empty"),
    pytest.param(txn({"ops": {"op": "put"}}), 400, "VALIDATION_FAILED", id="txn-ops-not-a-list"),
    pytest.param(
        txn({"ops": [{"op": "frob", "key": "project/a"}]}), 400, "VALIDATION_FAILED", id="txn-unknown-op"
    ),
    pytest.param(
        txn({"ops": [{"key": "project/a", "value": 1}]}), 400, "VALIDATION_FAILED", id="txn-op-without-op"
    ),
    pytest.param(txn({"ops": [put_op(extra=1)]}), 400, "VALIDATION_FAILED", id="txn-op-unknown-field"),
    pytest.param(
        txn({"ops": [{"op": "patch", "key": "project/a"}]}),
        400,
        "VALIDATION_FAILED",
        id="txn-patch-without-patch",
    ),
    pytest.param(txn({"ops": [put_op(ttl_s=0)]}), 400, "VALIDATION_FAILED", id="txn-put-ttl-zero"),
    pytest.param(txn({"ops": [put_op()] * 129}), 400, "VALIDATION_FAILED", id="txn-129-ops"),
    pytest.param(
        txn({"compares": [{"key": "project/a", "mod_rev": 1}] * 129, "ops": [put_op()]}),
        400,
        "VALIDATION_FAILED",
        id="txn-129-compares",
    ),
    pytest.param(
        txn({"compares": [{"key": "project/a", "mod_rev": -1}]}),
        400,
        "VALIDATION_FAILED",
        id="txn-compare-negative",
    ),
    pytest.param(
        txn({"compares": [{"key": "project/a"}]}), 400, "VALIDATION_FAILED", id="txn-compare-without-mod-rev"
    ),
    pytest.param(
        txn({"compares": [{"key": "project/a", "mod_rev": "one"}]}),
        400,
        "VALIDATION_FAILED",
        id="txn-compare-rev-string",
    ),
    pytest.param(
        txn({"compares": [{"key": "bogus/a", "mod_rev": 0}], "ops": [put_op()]}),
        400,
        "INVALID_RESOURCE_KEY",
        id="txn-compare-bad-key",
    ),
    pytest.param(
        txn({"ops": [put_op(), put_op("project//b")]}), 400, "INVALID_RESOURCE_KEY", id="txn-op-bad-key"
    ),
    pytest.param(txn({"ops": [put_op("")]}), 400, "INVALID_RESOURCE_KEY", id="txn-op-empty-key"),
    pytest.param(
        txn({"ops": [put_op("project/../a")]}), 400, "INVALID_RESOURCE_KEY", id="txn-op-dot-dot-key"
    ),
    # lists
    pytest.param(
        Call("GET", "/v1/resources", params={"prefix": "bogus"}),
        400,
        "INVALID_RESOURCE_KEY",
        id="list-bad-prefix",
    ),
    pytest.param(
        Call("GET", "/v1/resources", params={"limit": 0}), 400, "VALIDATION_FAILED", id="list-limit-zero"
    ),
    pytest.param(
        Call("GET", "/v1/resources", params={"limit": 1001}), 400, "VALIDATION_FAILED", id="list-limit-1001"
    ),
]


@pytest.mark.parametrize(("call", "status", "code"), BAD_REQUESTS)
def test_a_bad_request_gets_its_status_and_code_and_changes_nothing(
    api: Api, call: Call, status: int, code: str
) -> None:
    body = assert_refused(api, lambda: call.send(api), status, code)
    if code == "VALIDATION_FAILED":
        assert body["errors"], "a validation failure names the fields"


# Wire models are strict: a number given as a string or a boolean is not coerced ("1" would even
# satisfy project/a's revision 1 and let the write through).
STRICT_NUMBERS = [
    pytest.param(
        put({"value": 1, "expected_rev": "999"}), "body.expected_rev", id="put-expected-rev-numeric-string"
    ),
    pytest.param(
        put({"value": 1, "expected_rev": "1"}), "body.expected_rev", id="put-expected-rev-current-as-string"
    ),
    pytest.param(put({"value": 1, "expected_rev": True}), "body.expected_rev", id="put-expected-rev-true"),
    pytest.param(put({"value": 1, "ttl_s": "60"}), "body.ttl_s", id="put-ttl-numeric-string"),
    pytest.param(
        txn({"compares": [{"key": "project/a", "mod_rev": "999"}], "ops": [put_op()]}),
        "body.compares.0.mod_rev",
        id="txn-compare-rev-numeric-string",
    ),
    pytest.param(
        txn({"compares": [{"key": "project/a", "mod_rev": "1"}], "ops": [put_op()]}),
        "body.compares.0.mod_rev",
        id="txn-compare-rev-current-as-string",
    ),
    pytest.param(
        txn({"compares": [{"key": "project/a", "mod_rev": True}], "ops": [put_op()]}),
        "body.compares.0.mod_rev",
        id="txn-compare-rev-true",
    ),
]


@pytest.mark.parametrize(("call", "fld"), STRICT_NUMBERS)
def test_a_number_sent_as_a_string_or_boolean_is_refused_naming_the_field(
    api: Api, call: Call, fld: str
) -> None:
    assert api.client.get("/v1/resources/project/a").json()["mod_rev"] == 1
    body = assert_refused(api, lambda: call.send(api), 400, "VALIDATION_FAILED")
    assert fld in [e["field"] for e in body["errors"]], body


# -- writes whose preconditions do not hold (see test_model_based.py for their semantics) ----------
STALE = {"If-Match": '"999"'}
WRONG_PRECONDITIONS = [
    pytest.param(put({"value": 2}, headers=STALE), 412, "PRECONDITION_FAILED", id="put-if-match-stale"),
    pytest.param(
        put({"value": 2}, headers={"If-Match": 'W/"999"'}),
        412,
        "PRECONDITION_FAILED",
        id="put-if-match-weak-stale",
    ),
    pytest.param(
        put({"value": 2}, headers={"If-None-Match": "*"}),
        412,
        "PRECONDITION_FAILED",
        id="put-if-none-match-existing",
    ),
    pytest.param(patch({"n": 2}, headers=STALE), 412, "PRECONDITION_FAILED", id="patch-if-match-stale"),
    pytest.param(
        patch({"n": 2}, key="project/absent", headers={"If-Match": "*"}),
        412,
        "PRECONDITION_FAILED",
        id="patch-if-match-star-absent",
    ),
    pytest.param(delete(headers=STALE), 412, "PRECONDITION_FAILED", id="delete-if-match-stale"),
    pytest.param(
        put({"value": 2, "expected_rev": 999}), 409, "REVISION_CONFLICT", id="put-expected-rev-stale"
    ),
    pytest.param(
        put({"value": 2, "expected_rev": 0}), 409, "REVISION_CONFLICT", id="put-expected-rev-zero-existing"
    ),
    pytest.param(
        patch({"n": 2}, params={"expected_rev": 999}), 409, "REVISION_CONFLICT", id="patch-expected-rev-stale"
    ),
    pytest.param(
        delete(params={"expected_rev": 0}), 409, "REVISION_CONFLICT", id="delete-expected-rev-zero-existing"
    ),
    pytest.param(patch({"n": 2}, key="project/absent"), 404, "RESOURCE_NOT_FOUND", id="patch-absent"),
    pytest.param(delete(key="project/absent"), 404, "RESOURCE_NOT_FOUND", id="delete-absent"),
    pytest.param(
        txn({"compares": [{"key": "project/a", "mod_rev": 999}], "ops": [put_op()]}),
        409,
        "TXN_COMPARE_FAILED",
        id="txn-compare-stale",
    ),
    pytest.param(
        txn({"ops": [put_op(), {"op": "patch", "key": "project/absent", "patch": {"n": 1}}]}),
        404,
        "RESOURCE_NOT_FOUND",
        id="txn-patch-absent-after-a-put",
    ),
    pytest.param(
        txn({"ops": [put_op(), {"op": "delete", "key": "project/absent"}]}),
        404,
        "RESOURCE_NOT_FOUND",
        id="txn-delete-absent-after-a-put",
    ),
]


@pytest.mark.parametrize(("call", "status", "code"), WRONG_PRECONDITIONS)
def test_a_write_whose_precondition_fails_changes_nothing(
    api: Api, call: Call, status: int, code: str
) -> None:
    body = assert_refused(api, lambda: call.send(api), status, code)
    if status in (409, 412) and code != "TXN_COMPARE_FAILED":
        assert "current_rev" in body
    if call.path.endswith(":txn") and status == 404:
        assert body["op_index"] == 1


# -- values a backend cannot store ------------------------------------------------------------------
# PostgreSQL's jsonb cannot hold U+0000, so every backend refuses it alike.
NUL_VALUES = [
    pytest.param(put({"value": {"text": "a\u0000b"}}), id="put-in-a-string"),
    pytest.param(put({"value": {"a\u0000b": 1}}), id="put-in-a-member-name"),
    pytest.param(put({"value": ["x", ["\u0000"]]}), id="put-nested-in-arrays"),
    pytest.param(patch({"text": "a\u0000b"}), id="patch"),
    pytest.param(txn({"ops": [put_op(), put_op("project/nul", value="\u0000")]}), id="txn-put"),
    pytest.param(
        txn({"ops": [{"op": "patch", "key": "project/a", "patch": {"m": "\u0000"}}]}), id="txn-patch"
    ),
]


@pytest.mark.parametrize("call", NUL_VALUES)
def test_a_value_holding_a_nul_character_is_refused_on_every_backend(api: Api, call: Call) -> None:
    body = assert_refused(api, lambda: call.send(api), 400, "VALIDATION_FAILED")
    assert "U+0000" in body["errors"][0]["message"], body


# -- the same on the wire, against a real server ------------------------------------------------------
WIRE_CASES = [
    ("dot-dot", "PUT", b"/v1/resources/project/../a", b'{"value": 1}', 400, "INVALID_RESOURCE_KEY"),
    ("dot", "DELETE", b"/v1/resources/project/./a", b"", 400, "INVALID_RESOURCE_KEY"),
    ("empty-segment", "PUT", b"/v1/resources/project//a", b'{"value": 1}', 400, "INVALID_RESOURCE_KEY"),
    ("trailing-slash", "PUT", b"/v1/resources/project/a/", b'{"value": 1}', 400, "INVALID_RESOURCE_KEY"),
    (
        "percent-dot-dot",
        "PUT",
        b"/v1/resources/project/%2E%2E/a",
        b'{"value": 1}',
        400,
        "INVALID_RESOURCE_KEY",
    ),
    ("nul", "PUT", b"/v1/resources/project/%00", b'{"value": 1}', 400, "INVALID_RESOURCE_KEY"),
    ("malformed-json", "PUT", b"/v1/resources/project/a", b"{not json", 400, "MALFORMED_JSON"),
    ("unknown-field", "PUT", b"/v1/resources/project/a", b'{"value": 1, "x": 1}', 400, "VALIDATION_FAILED"),
    (
        "oversize",
        "PUT",
        b"/v1/resources/project/a",
        b'{"value": "' + b"x" * 262144 + b'"}',
        413,
        "VALUE_TOO_LARGE",
    ),
    (
        "txn-bad-op",
        "POST",
        b"/v1/resources:txn",
        b'{"ops": [{"op": "frob", "key": "project/a"}]}',
        400,
        "VALIDATION_FAILED",
    ),
]


@pytest.mark.slow
def test_a_real_server_refuses_bad_input_on_the_wire_and_changes_nothing(
    server: Any, subtests: pytest.Subtests
) -> None:
    with server.client() as client:
        assert client.put("/v1/resources/project/a", json={"value": 0}).status_code == 201
        for case_id, method, raw_path, body, status, code in WIRE_CASES:
            with subtests.test(msg=case_id):
                before = everything_over_http(client)
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                headers = {**server.headers(), "Content-Type": "application/json"}
                conn.request(method, raw_path.decode("latin-1"), body=body, headers=headers)
                answer = conn.getresponse()
                problem = json.loads(answer.read())
                conn.close()
                assert (answer.status, problem["code"]) == (status, code), problem
                assert answer.getheader("Content-Type") == "application/problem+json"
                assert everything_over_http(client) == before
