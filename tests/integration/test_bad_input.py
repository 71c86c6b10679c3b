"""Bad requests get RFC 9457 problems and change nothing; the wire basics (correlation, health, schema, auth).

One real server per module and backend; every bad request is checked against the event head.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from wirekit import (
    all_events,
    assert_problem,
    backend_of,
    error_fields,
    head_seq,
    is_generated_correlation_id,
    post_event,
)

import missiond

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
GOOD = {"type": "build.step.finished", "subject": "repo/x", "data": {"ok": True}}


def _sized_body(total: int) -> bytes:
    """A valid event whose JSON encoding is exactly `total` bytes."""
    base = json.dumps({**GOOD, "data": {"pad": ""}}, separators=(",", ":")).encode()
    body = json.dumps({**GOOD, "data": {"pad": "x" * (total - len(base))}}, separators=(",", ":")).encode()
    assert len(body) == total
    return body


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    code: str
    where: str | None = None
    json: Any = None
    content: bytes | None = None
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True


def case(id_: str, *args: Any, bug: str | None = None, **kwargs: Any) -> Any:
    """A table row; `bug` marks a known server divergence from the contract (strict xfail)."""
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=bug)] if bug else []
    return pytest.param(Case(*args, **kwargs), id=id_, marks=marks)


def event(**changes: Any) -> dict[str, Any]:
    body = dict(GOOD, **changes)
    return {k: v for k, v in body.items() if v is not ...}


def batch(*items: dict[str, Any]) -> dict[str, Any]:
    return {"events": list(items)}


E, B, Q, S = "/v1/events", "/v1/events/batch", "/v1/events", "/v1/streams/events"
VF, RT, IC, MJ = "VALIDATION_FAILED", "RESERVED_EVENT_TYPE", "INVALID_CURSOR", "MALFORMED_JSON"
BAD_TOKEN = {"Authorization": "Bearer mdt_not-a-token-this-server-issued"}

CASES = [
    # bodies that are not JSON
    case("malformed-json", "POST", E, 400, MJ, content=b"{bad"),
    case("truncated-json", "POST", E, 400, MJ, content=b'{"type": "build.step.finished"'),
    case("empty-body", "POST", E, 400, MJ, content=b""),
    case("trailing-garbage", "POST", E, 400, MJ, content=b'{"type": "build.step.finished"} x'),
    case("nan-is-not-json", "POST", E, 400, MJ, content=b'{"type":"a.b","subject":"s","data":{"x":NaN}}'),
    case("not-utf8", "POST", E, 400, MJ, content=b"\xff\xfe{}"),
    case("malformed-json-batch", "POST", B, 400, MJ, content=b'{"events": [}'),
    # wrong types, missing and unknown fields
    case("type-not-a-string", "POST", E, 400, VF, "body.type", json=event(type=1)),
    case("subject-not-a-string", "POST", E, 400, VF, "body.subject", json=event(subject=["a"])),
    case("data-not-an-object", "POST", E, 400, VF, "body.data", json=event(data=[1, 2])),
    case("v-not-an-int", "POST", E, 400, VF, "body.v", json=event(v="one")),
    case("v-below-one", "POST", E, 400, VF, "body.v", json=event(v=0)),
    case("causation-too-long", "POST", E, 400, VF, "body.causation_id", json=event(causation_id="c" * 65)),
    case("type-missing", "POST", E, 400, VF, "body.type", json=event(type=...)),
    case("subject-missing", "POST", E, 400, VF, "body.subject", json=event(subject=...)),
    case("unknown-field", "POST", E, 400, VF, "body.bogus", json=event(bogus=1)),
    case("body-is-a-list", "POST", E, 400, VF, "body", json=[GOOD]),
    case("body-is-null", "POST", E, 400, VF, "body", content=b"null"),
    # event type rules
    case("reserved-resource", "POST", E, 400, RT, "body.type", json=event(type="resource.updated")),
    case("reserved-task", "POST", E, 400, RT, "body.type", json=event(type="task.created")),
    case("reserved-spine", "POST", E, 400, RT, "body.type", json=event(type="spine.compacted")),
    case("type-upper-case", "POST", E, 400, VF, "body.type", json=event(type="Build.Finished")),
    case("type-one-segment", "POST", E, 400, VF, "body.type", json=event(type="finished")),
    case("type-empty-segment", "POST", E, 400, VF, "body.type", json=event(type="build..done")),
    case("type-dash", "POST", E, 400, VF, "body.type", json=event(type="build.step-done")),
    case("type-nine-segments", "POST", E, 400, VF, "body.type", json=event(type=".".join("a" * 9))),
    case("type-digit-first", "POST", E, 400, VF, "body.type", json=event(type="build.1st")),
    case("type-too-long", "POST", E, 400, VF, "body.type", json=event(type="a." + "b" * 130)),
    # subject rules
    case("subject-empty", "POST", E, 400, VF, "body.subject", json=event(subject="")),
    case("subject-513-chars", "POST", E, 400, VF, "body.subject", json=event(subject="s" * 513)),
    case("subject-newline", "POST", E, 400, VF, "body.subject", json=event(subject="a\nb")),
    case("subject-nul", "POST", E, 400, VF, "body.subject", json=event(subject="a\x00b")),
    case("subject-del", "POST", E, 400, VF, "body.subject", json=event(subject="a\x7fb")),
    # batches: size limits, and one bad item refuses the whole batch
    case("batch-empty", "POST", B, 400, VF, "body.events", json=batch()),
    case("batch-501", "POST", B, 400, VF, "body.events", json=batch(*[GOOD] * 501)),
    case("batch-not-a-list", "POST", B, 400, VF, "body.events", json={"events": GOOD}),
    case("batch-missing-events", "POST", B, 400, VF, "body.events", json={}),
    case(
        "batch-reserved-third-item",
        "POST",
        B,
        400,
        RT,
        "body.events.2.type",
        json=batch(GOOD, GOOD, event(type="memory.stored"), GOOD),
    ),
    case(
        "batch-empty-subject-second-item",
        "POST",
        B,
        400,
        VF,
        "body.events.1.subject",
        json=batch(GOOD, event(subject="")),
    ),
    case(
        "batch-bad-type-last-item",
        "POST",
        B,
        400,
        VF,
        "body.events.2.type",
        json=batch(GOOD, GOOD, event(type="nope")),
    ),
    # size limit (1 MiB)
    case("body-one-byte-over-1mib", "POST", E, 413, "PAYLOAD_TOO_LARGE", content=_sized_body(MIB + 1)),
    case(
        "batch-over-1mib",
        "POST",
        B,
        413,
        "PAYLOAD_TOO_LARGE",
        json=batch(*[event(data={"pad": "x" * 20_000})] * 60),
    ),
    # query parameters of GET /v1/events
    case("after-not-a-number", "GET", Q, 400, VF, "query.after", params=[("after", "abc")]),
    case("after-negative", "GET", Q, 400, VF, "query.after", params=[("after", "-1")]),
    case("after-ahead-of-head", "GET", Q, 400, IC, params=[("after", "999999999")]),
    case("cursor-garbage", "GET", Q, 400, IC, params=[("cursor", "zzz")]),
    case("cursor-foreign-prefix", "GET", Q, 400, IC, params=[("cursor", _cursor("s2:5"))]),
    case("cursor-not-a-number", "GET", Q, 400, IC, params=[("cursor", _cursor("s1:five"))]),
    case("cursor-ahead-of-head", "GET", Q, 400, IC, params=[("cursor", _cursor("s1:999999999"))]),
    case("limit-zero", "GET", Q, 400, VF, "query.limit", params=[("limit", "0")]),
    case("limit-1001", "GET", Q, 400, VF, "query.limit", params=[("limit", "1001")]),
    case("limit-not-a-number", "GET", Q, 400, VF, "query.limit", params=[("limit", "ten")]),
    case("since-not-a-time", "GET", Q, 400, VF, "query.since", params=[("since", "yesterday")]),
    case("since-without-zone", "GET", Q, 400, VF, "query.since", params=[("since", "2026-01-01T00:00:00")]),
    case("until-not-a-time", "GET", Q, 400, VF, "query.until", params=[("until", "2026-13-01")]),
    # stream cursors
    case("stream-after-not-a-number", "GET", S, 400, IC, params=[("after", "abc")]),
    case("stream-last-event-id-not-a-number", "GET", S, 400, IC, headers={"Last-Event-ID": "x1"}),
    case("stream-after-ahead-of-head", "GET", S, 400, IC, params=[("after", "999999999")]),
    # admin body
    case(
        "compact-negative", "POST", "/v1/admin/compact", 400, VF, "body.through_seq", json={"through_seq": -1}
    ),
    case(
        "compact-unknown-field",
        "POST",
        "/v1/admin/compact",
        400,
        VF,
        "body.seq",
        json={"through_seq": 0, "seq": 1},
    ),
    # authentication: a valid write that must not happen
    case("no-token", "POST", E, 401, "UNAUTHORIZED", json=GOOD, auth=False),
    case("unknown-token", "POST", E, 401, "UNAUTHORIZED", json=GOOD, auth=False, headers=BAD_TOKEN),
    case(
        "basic-scheme",
        "POST",
        E,
        401,
        "UNAUTHORIZED",
        json=GOOD,
        auth=False,
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
    ),
    case(
        "bearer-without-token",
        "POST",
        B,
        401,
        "UNAUTHORIZED",
        json=batch(GOOD),
        auth=False,
        headers={"Authorization": "Bearer"},
    ),
    case(
        "token-without-scheme",
        "POST",
        E,
        401,
        "UNAUTHORIZED",
        json=GOOD,
        auth=False,
        headers={"Authorization": "mdt_just-the-token"},
    ),
    case("no-token-query", "GET", Q, 401, "UNAUTHORIZED", auth=False),
    case("no-token-stream", "GET", S, 401, "UNAUTHORIZED", auth=False),
    case("no-token-whoami", "GET", "/v1/whoami", 401, "UNAUTHORIZED", auth=False),
    case(
        "unknown-token-compact",
        "POST",
        "/v1/admin/compact",
        401,
        "UNAUTHORIZED",
        json={"through_seq": 0},
        auth=False,
        headers=BAD_TOKEN,
    ),
    case("no-token-stats", "GET", "/v1/admin/stats", 401, "UNAUTHORIZED", auth=False),
    # routing
    case("unknown-route", "GET", "/v1/nope", 404, "NOT_FOUND"),
    case("unknown-version", "GET", "/v2/events", 404, "NOT_FOUND"),
    case("unknown-subroute", "POST", "/v1/events/nope", 404, "NOT_FOUND", json=GOOD),
    case("delete-events", "DELETE", E, 405, "METHOD_NOT_ALLOWED"),
    case("put-health", "PUT", "/v1/health", 405, "METHOD_NOT_ALLOWED", json={}),
    case("get-batch", "GET", B, 405, "METHOD_NOT_ALLOWED"),
    case("get-compact", "GET", "/v1/admin/compact", 405, "METHOD_NOT_ALLOWED"),
    # correlation header syntax
    case(
        "correlation-with-space",
        "POST",
        E,
        400,
        VF,
        "header.X-Correlation-ID",
        json=GOOD,
        headers={"X-Correlation-ID": "bad id"},
    ),
    case(
        "correlation-129-chars",
        "POST",
        E,
        400,
        VF,
        "header.X-Correlation-ID",
        json=GOOD,
        headers={"X-Correlation-ID": "c" * 129},
    ),
    case(
        "correlation-empty",
        "POST",
        E,
        400,
        VF,
        "header.X-Correlation-ID",
        json=GOOD,
        headers={"X-Correlation-ID": ""},
    ),
    case(
        "correlation-slash", "GET", Q, 400, VF, "header.X-Correlation-ID", headers={"X-Correlation-ID": "a/b"}
    ),
]


def _send(srv: Any, c: Case) -> httpx.Response:
    headers = {**(srv.headers() if c.auth else {}), **c.headers}
    kwargs: dict[str, Any] = {"headers": headers, "params": c.params}
    if c.content is not None:
        kwargs["content"] = c.content
        headers.setdefault("Content-Type", "application/json")
    elif c.json is not None:
        kwargs["json"] = c.json
    with httpx.Client(base_url=srv.url, timeout=10.0) as client:
        return client.request(c.method, c.path, **kwargs)


@pytest.mark.parametrize("c", CASES)
def test_a_bad_request_gets_a_problem_naming_what_is_wrong_and_changes_nothing(
    module_server: Any,
    c: Case,
) -> None:
    client = module_server.client()
    before = head_seq(client)
    response = _send(module_server, c)
    problem = assert_problem(response, c.status, c.code)
    if c.where is not None:
        assert c.where in error_fields(problem), problem
        assert c.where in problem["detail"]
    if c.status == 401:
        assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert head_seq(client) == before, "a failed request must not append events"


def test_a_body_of_exactly_the_size_limit_is_accepted(module_server: Any) -> None:
    client = module_server.client()
    json_type = {"Content-Type": "application/json"}
    response = client.post("/v1/events", content=_sized_body(MIB), headers=json_type)
    assert response.status_code == 201, response.text[:500]
    assert len(response.json()["events"][0]["data"]["pad"]) > MIB - 100


def test_a_client_correlation_id_is_echoed_and_lands_on_every_event_the_request_caused(
    module_server: Any,
) -> None:
    client = module_server.client()
    head = head_seq(client)
    correlation = "it-corr:batch_1.A-z"
    response = client.post(
        "/v1/events/batch",
        json=batch(GOOD, GOOD, event(subject="repo/y")),
        headers={"X-Correlation-ID": correlation},
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-correlation-id"] == correlation
    events = response.json()["events"]
    assert [e["correlation_id"] for e in events] == [correlation] * 3
    stored = [e for e in all_events(client, after=head) if e["correlation_id"] == correlation]
    assert [e["seq"] for e in stored] == [e["seq"] for e in events]

    single = client.post("/v1/events", json=GOOD, headers={"X-Correlation-ID": "it-corr-single"})
    assert single.headers["x-correlation-id"] == "it-corr-single"
    assert single.json()["events"][0]["correlation_id"] == "it-corr-single"

    refused = client.post(
        "/v1/events", json=event(type="resource.updated"), headers={"X-Correlation-ID": "it-bad-1"}
    )
    assert refused.headers["x-correlation-id"] == "it-bad-1"
    assert assert_problem(refused, 400, "RESERVED_EVENT_TYPE")["correlation_id"] == "it-bad-1"


def test_a_request_without_a_correlation_id_gets_a_generated_one_on_the_response_and_its_events(
    module_server: Any,
) -> None:
    client = module_server.client()
    first = client.post("/v1/events/batch", json=batch(GOOD, GOOD))
    second = client.post("/v1/events/batch", json=batch(GOOD))
    for response in (first, second):
        assert response.status_code == 201, response.text
        generated = response.headers["x-correlation-id"]
        assert is_generated_correlation_id(generated), generated
        assert {e["correlation_id"] for e in response.json()["events"]} == {generated}
    assert first.headers["x-correlation-id"] != second.headers["x-correlation-id"]
    assert is_generated_correlation_id(client.get("/v1/whoami").headers["x-correlation-id"])


def test_health_needs_no_token_and_reports_version_database_and_schema_version(module_server: Any) -> None:
    response = httpx.get(f"{module_server.url}/v1/health", timeout=5.0)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    health = response.json()
    assert set(health) == {"status", "version", "database", "schema_version", "head_seq"}
    assert health["status"] == "ok"
    assert health["version"] == missiond.__version__
    assert health["database"] == backend_of(module_server)
    versions = Path(missiond.__file__).parent / "storage" / "migrations" / "versions"
    latest = max(p.name.split("_", 1)[0] for p in versions.glob("[0-9]*_*.py"))
    assert health["schema_version"] == latest
    client = module_server.client()
    written = post_event(client)
    assert httpx.get(f"{module_server.url}/v1/health", timeout=5.0).json()["head_seq"] >= written["seq"]


def test_whoami_reports_the_admin_token_subject_and_capabilities(module_server: Any) -> None:
    me = module_server.client().get("/v1/whoami")
    assert me.status_code == 200
    assert me.json() == {"subject": "user:admin", "kind": "admin", "capabilities": ["*"]}


ROUTES = {
    ("get", "/v1/health"),
    ("get", "/v1/whoami"),
    ("get", "/v1/events"),
    ("post", "/v1/events"),
    ("post", "/v1/events/batch"),
    ("get", "/v1/streams/events"),
    ("post", "/v1/admin/compact"),
    ("get", "/v1/admin/stats"),
}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def test_the_openapi_document_lists_every_route_with_bearer_security_and_schemas(module_server: Any) -> None:
    response = httpx.get(f"{module_server.url}/v1/schema/openapi.json", timeout=10.0)
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["version"] == missiond.__version__
    schemes = doc["components"]["securitySchemes"]
    bearer_names = {name for name, s in schemes.items() if s["type"] == "http" and s["scheme"] == "bearer"}
    assert bearer_names
    operations = {(method, path): op for path, ops in doc["paths"].items() for method, op in ops.items()}
    assert operations.keys() >= ROUTES, ROUTES - operations.keys()
    for (method, path), op in operations.items():
        security = op.get("security", doc.get("security", []))
        if path != "/v1/health":
            assert any(set(req) & bearer_names for req in security), (method, path)
        if (method, path) not in ROUTES:
            continue  # routes added by later capabilities: only their security is checked here
        success = [code for code in op["responses"] if code.startswith("2")]
        assert success, (method, path)
        if path != "/v1/streams/events":
            content = op["responses"][success[0]]["content"]["application/json"]
            assert _resolve(doc, content["schema"]).get("properties"), (method, path)
        if method == "post":
            body = _resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])
            assert body.get("properties"), (method, path)
    event_in = _resolve(
        doc, operations[("post", "/v1/events")]["requestBody"]["content"]["application/json"]["schema"]
    )
    assert {"type", "subject"} <= set(event_in["required"])
    query_params = {p["name"] for p in operations[("get", "/v1/events")]["parameters"]}
    assert {"type", "subject", "after", "cursor", "since", "until", "limit"} <= query_params
    stream_params = {p["name"] for p in operations[("get", "/v1/streams/events")]["parameters"]}
    assert {"type", "subject", "after", "Last-Event-ID"} <= stream_params


def test_the_token_file_is_private_and_the_server_binds_loopback_only(module_server: Any) -> None:
    token = module_server.home / "token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert re.fullmatch(r"mdt_[A-Za-z0-9_-]{20,}", token.read_text().strip())

    info = module_server.server_info()
    assert info["url"] == f"http://127.0.0.1:{module_server.port}"
    assert info["pid"] == module_server.proc.pid
    listening = _listening_addresses(module_server.port)
    assert listening == {"127.0.0.1"}, listening
    outward = _outward_address()
    if outward is not None:
        with pytest.raises(OSError), socket.create_connection((outward, module_server.port), timeout=2.0):
            pass


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the LISTEN sockets on `port`, from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, port_hex = local.partition(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            if width == 8:
                found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
            else:
                words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, 32, 8)]
                found.add(socket.inet_ntop(socket.AF_INET6, b"".join(words)))
    return found


def _outward_address() -> str | None:
    """This host's non-loopback IPv4 address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(sock.getsockname()[0])
    return None if address.startswith("127.") else address


# ---------------------------------------------------------------- routing errors and the OpenAPI document


def test_routing_errors_echo_the_correlation_id_too(module_server: Any) -> None:
    client = module_server.client()
    for method, path in (("GET", "/v1/nope"), ("DELETE", "/v1/events")):
        response = client.request(method, path, headers={"X-Correlation-ID": "it-route-1"})
        assert response.headers["x-correlation-id"] == "it-route-1"
        assert response.json()["correlation_id"] == "it-route-1"


def test_a_405_lists_the_allowed_methods(module_server: Any) -> None:
    response = module_server.client().delete("/v1/events")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}


def test_the_openapi_document_describes_public_routes_problems_and_the_event_stream(
    module_server: Any,
) -> None:
    doc = httpx.get(f"{module_server.url}/v1/schema/openapi.json", timeout=10.0).json()
    health = doc["paths"]["/v1/health"]["get"]
    assert health.get("security", doc.get("security", [])) == []
    assert doc["paths"]["/v1/events"]["get"]["security"] == [{"bearer": []}]
    assert doc["components"]["schemas"]["EventIn"].get("additionalProperties") is False
    stream = doc["paths"]["/v1/streams/events"]["get"]["responses"]["200"]
    assert "text/event-stream" in stream["content"]
    bad = doc["paths"]["/v1/events"]["post"]["responses"]["400"]
    assert "application/problem+json" in bad["content"]
