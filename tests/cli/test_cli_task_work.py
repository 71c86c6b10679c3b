"""`missiond task work`: claim, run, renew, then complete or hand back. A fake child and clock;
the real process seam is checked at the end with tiny Python children."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence

import httpx
import pytest
from cli_fakes import FakeServer, Invoke, claim, lease, problem, released, task_view

from missiond.cli.process import OutputSink, spawn_process
from missiond.cli.work import TAIL_CHARS, OutputTail

CLAIM = "POST /v1/tasks/claim"
RENEW = "POST /v1/leases/lse_1/renew"
RELEASE = "POST /v1/leases/lse_1/release"
COMPLETE = "POST /v1/tasks/tsk_1/complete"
WAIT_S = 10.0


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


class FakeClock:
    """Never sleeps: each wait advances `now` and yields to the other threads for a moment."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        if stop.wait(0.001):
            return True
        self.now += seconds
        return False


class FakeChild:
    def __init__(self, spawner: FakeSpawner, sink: OutputSink) -> None:
        self.spawner = spawner
        self.sink = sink
        self.code = spawner.code
        self.signals: list[int] = []

    def wait(self) -> int:
        for name, chunk in self.spawner.output:
            self.sink(name, chunk)
        if self.spawner.until is not None:
            assert self.spawner.until.wait(WAIT_S), "the lease was never renewed"
        if self.spawner.during is not None:
            self.spawner.during()
        return self.code

    def send_signal(self, signum: int) -> None:
        self.signals.append(signum)
        self.code = 128 + signum


class FakeSpawner:
    """Records what `task work` would run; the child prints `output` and exits `code`."""

    def __init__(
        self,
        output: Sequence[tuple[str, bytes]] = (),
        code: int = 0,
        until: threading.Event | None = None,
        during: Callable[[], None] | None = None,
        error: OSError | None = None,
    ) -> None:
        self.output = output
        self.code = code
        self.until = until
        self.during = during
        self.error = error
        self.argv: list[str] = []
        self.env: dict[str, str] = {}
        self.children: list[FakeChild] = []

    def __call__(self, argv: Sequence[str], env: Mapping[str, str], sink: OutputSink) -> FakeChild:
        self.argv, self.env = list(argv), dict(env)
        if self.error is not None:
            raise self.error
        child = FakeChild(self, sink)
        self.children.append(child)
        return child


def renewals(
    times: int = 2, answer: httpx.Response | None = None
) -> tuple[Callable[..., httpx.Response], threading.Event]:
    """A renew route that answers `answer` (a live lease) and signals after `times` calls."""
    seen = threading.Event()
    count = [0]

    def respond(_request: httpx.Request) -> httpx.Response:
        count[0] += 1
        if count[0] >= times:
            seen.set()
        return answer if answer is not None else ok(lease())

    return respond, seen


def outcome_of(server: FakeServer, route: str) -> str:
    return str(json.loads(server.sent(route)[0].content)["outcome"])


def test_a_command_that_succeeds_completes_the_task_with_its_output(invoke: Invoke) -> None:
    renew, renewed = renewals(2)
    server = (
        FakeServer()
        .on(CLAIM, ok(claim(fencing_token=7)))
        .on(RENEW, renew)
        .on(COMPLETE, ok(task_view(status="completed")))
    )
    spawner = FakeSpawner(output=[("stdout", b"building\n"), ("stderr", b"warning: x\n")], until=renewed)
    clock = FakeClock()
    result = invoke(
        server, "task", "work", "--role", "dev", "--ttl", "60", "--", "make", "test",
        spawn=spawner, clock=clock,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # claimed the best ready task for the role
    assert json.loads(server.sent(CLAIM)[0].content) == {"ttl_s": 60.0, "role": "dev"}
    # ran the command with the claim in its environment
    assert spawner.argv == ["make", "test"]
    assert spawner.env["MISSIOND_TASK_ID"] == "tsk_1"
    assert spawner.env["MISSIOND_LEASE_ID"] == "lse_1"
    assert spawner.env["MISSIOND_FENCING_TOKEN"] == "7"
    assert spawner.env["MISSIOND_URL"] == "http://test"
    # renewed every ttl/3 with the fencing token
    assert len(server.sent(RENEW)) >= 2
    assert set(clock.waits) == {20.0}
    for request in server.sent(RENEW):
        assert request.headers["X-Fencing-Token"] == "7"
        assert json.loads(request.content) == {"ttl_s": 60.0}
    # completed with the output as the outcome, fenced
    complete = server.sent(COMPLETE)[0]
    assert complete.headers["X-Fencing-Token"] == "7"
    assert outcome_of(server, COMPLETE) == "building\nwarning: x"
    assert server.sent(RELEASE) == []
    # the output went through; what missiond did went to stderr
    assert "building" in result.stdout
    assert "warning: x" in result.stderr
    assert (
        "missiond: claimed tsk_1 'Write the parser' (lease lse_1, fencing token 7, ttl 60s)" in result.stderr
    )
    assert "running: make test" in result.stderr
    assert "missiond: completed tsk_1" in result.stderr


def test_a_command_with_no_output_completes_with_exit_0(invoke: Invoke) -> None:
    server = FakeServer().on(CLAIM, ok(claim())).on(RENEW, ok(lease())).on(COMPLETE, ok(task_view()))
    result = invoke(server, "task", "work", "--", "true", spawn=FakeSpawner(), clock=FakeClock())
    assert result.exit_code == 0, result.output
    assert outcome_of(server, COMPLETE) == "exit 0"


def test_the_outcome_is_the_tail_of_the_output(invoke: Invoke) -> None:
    server = FakeServer().on(CLAIM, ok(claim())).on(RENEW, ok(lease())).on(COMPLETE, ok(task_view()))
    lines = b"".join(b"line %05d\n" % i for i in range(2000))
    spawner = FakeSpawner(output=[("stdout", lines[: len(lines) // 2]), ("stdout", lines[len(lines) // 2 :])])
    result = invoke(server, "task", "work", "--", "noisy", spawn=spawner, clock=FakeClock())
    assert result.exit_code == 0, result.output
    outcome = outcome_of(server, COMPLETE)
    assert len(outcome) <= TAIL_CHARS
    assert outcome.endswith("line 01999")
    assert lines.decode().strip().endswith(outcome)


def test_a_named_task_is_claimed_by_id(invoke: Invoke) -> None:
    server = (
        FakeServer()
        .on("POST /v1/tasks/tsk_1/claim", ok(claim()))
        .on(RENEW, ok(lease()))
        .on(COMPLETE, ok(task_view()))
    )
    result = invoke(
        server, "task", "work", "tsk_1", "--ttl", "30", "--", "true", spawn=FakeSpawner(), clock=FakeClock()
    )
    assert result.exit_code == 0, result.output
    assert json.loads(server.sent("POST /v1/tasks/tsk_1/claim")[0].content) == {"ttl_s": 30.0}


def test_a_failing_command_releases_the_lease_with_an_attempt_note_and_keeps_its_exit_code(
    invoke: Invoke,
) -> None:
    server = FakeServer().on(CLAIM, ok(claim())).on(RENEW, ok(lease())).on(RELEASE, ok(released()))
    spawner = FakeSpawner(output=[("stderr", b"AssertionError: 2 != 3\n")], code=3)
    result = invoke(server, "task", "work", "--", "pytest", "-x", spawn=spawner, clock=FakeClock())
    assert result.exit_code == 3, result.output
    assert server.sent(COMPLETE) == []
    release = server.sent(RELEASE)[0]
    assert release.headers["X-Fencing-Token"] == "3"
    body = json.loads(release.content)
    assert "complete" not in body  # handed back: the outcome becomes an attempt note
    assert "`pytest -x` exited 3" in body["outcome"]
    assert body["outcome"].endswith("AssertionError: 2 != 3")
    assert "released tsk_1 with an attempt note" in result.stderr


def test_a_lost_lease_is_reported_and_the_task_is_not_completed(invoke: Invoke) -> None:
    lost = problem(409, "LEASE_EXPIRED", "lease lse_1 is no longer live (expired)")
    renew, attempted = renewals(1, lost)
    server = FakeServer().on(CLAIM, ok(claim())).on(RENEW, renew)
    result = invoke(
        server, "task", "work", "--", "make", spawn=FakeSpawner(until=attempted), clock=FakeClock()
    )
    assert result.exit_code == 1, result.output
    assert len(server.sent(RENEW)) == 1  # no renewing a lease that is gone
    assert server.sent(COMPLETE) == [] and server.sent(RELEASE) == []
    assert "missiond: lost the lease lse_1 on tsk_1" in result.stderr
    assert "tsk_1 was not completed" in result.stderr
    assert "error: LEASE_EXPIRED: lease lse_1 is no longer live (expired)" in result.stderr


def test_a_failed_renewal_that_is_not_a_lost_lease_is_tried_again(invoke: Invoke) -> None:
    renew, renewed = renewals(2)
    server = (
        FakeServer()
        .on(CLAIM, ok(claim()))
        .on(RENEW, problem(500, "INTERNAL", "boom"), renew)
        .on(COMPLETE, ok(task_view()))
    )
    result = invoke(server, "task", "work", "--", "make", spawn=FakeSpawner(until=renewed), clock=FakeClock())
    assert result.exit_code == 0, result.output
    assert "could not renew the lease lse_1 (INTERNAL: boom); trying again in 20s" in result.stderr
    assert len(server.sent(COMPLETE)) == 1


def test_nothing_ready_runs_nothing_and_exits_0(invoke: Invoke) -> None:
    server = FakeServer().on(CLAIM, httpx.Response(204))
    spawner = FakeSpawner()
    result = invoke(server, "task", "work", "--role", "qa", "--", "make", spawn=spawner, clock=FakeClock())
    assert result.exit_code == 0, result.output
    assert spawner.argv == []
    assert "nothing ready (role qa); not running make" in result.stderr


def test_a_claim_refused_exits_1_without_running(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/tasks/tsk_1/claim", problem(409, "TASK_NOT_READY", "1 blocker"))
    spawner = FakeSpawner()
    result = invoke(server, "task", "work", "tsk_1", "--", "make", spawn=spawner, clock=FakeClock())
    assert result.exit_code == 1
    assert spawner.argv == []
    assert "error: TASK_NOT_READY" in result.stderr


@pytest.mark.parametrize("args", [[], ["--"], ["tsk_1"], ["--ttl", "1", "--", "make"]])
def test_usage_errors_exit_2_without_a_claim(invoke: Invoke, args: list[str]) -> None:
    server = FakeServer()
    result = invoke(server, "task", "work", *args, spawn=FakeSpawner(), clock=FakeClock())
    assert result.exit_code == 2, result.output
    assert server.requests == []


def test_a_command_that_cannot_start_releases_the_lease_and_exits_127(invoke: Invoke) -> None:
    server = FakeServer().on(CLAIM, ok(claim())).on(RELEASE, ok(released()))
    spawner = FakeSpawner(error=FileNotFoundError(2, "No such file or directory", "nope"))
    result = invoke(server, "task", "work", "--", "nope", spawn=spawner, clock=FakeClock())
    assert result.exit_code == 127, result.output
    assert "could not start" in outcome_of(server, RELEASE)
    assert server.sent(RENEW) == []


def test_ctrl_c_is_passed_on_then_the_lease_released_and_exit_130(invoke: Invoke) -> None:
    before = signal.getsignal(signal.SIGINT)
    server = FakeServer().on(CLAIM, ok(claim())).on(RENEW, ok(lease())).on(RELEASE, ok(released()))
    spawner = FakeSpawner(
        output=[("stdout", b"half done\n")], during=lambda: signal.raise_signal(signal.SIGINT)
    )
    result = invoke(server, "task", "work", "--", "long-job", spawn=spawner, clock=FakeClock())
    assert result.exit_code == 130, result.output
    assert spawner.children[0].signals == [signal.SIGINT]
    outcome = outcome_of(server, RELEASE)
    assert "was interrupted (SIGINT)" in outcome and outcome.endswith("half done")
    assert server.sent(COMPLETE) == []
    assert "SIGINT: released tsk_1" in result.stderr
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_ctrl_c_kills_the_command(invoke: Invoke) -> None:
    def twice() -> None:
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)

    server = FakeServer().on(CLAIM, ok(claim())).on(RENEW, ok(lease())).on(RELEASE, ok(released()))
    spawner = FakeSpawner(during=twice)
    result = invoke(server, "task", "work", "--", "stubborn", spawn=spawner, clock=FakeClock())
    assert result.exit_code == 130, result.output
    assert spawner.children[0].signals == [signal.SIGINT, signal.SIGKILL]


def test_the_token_reaches_the_command_so_it_can_write_as_the_holder(invoke: Invoke) -> None:
    server = FakeServer().on(CLAIM, ok(claim())).on(RENEW, ok(lease())).on(COMPLETE, ok(task_view()))
    spawner = FakeSpawner()
    result = invoke(
        server, "--token", "tok_agent", "task", "work", "--", "true", spawn=spawner, clock=FakeClock()
    )
    assert result.exit_code == 0, result.output
    assert spawner.env["MISSIOND_TOKEN"] == "tok_agent"
    assert server.requests[0].headers["Authorization"] == "Bearer tok_agent"


# -- the pieces -------------------------------------------------------------------------


def test_the_tail_keeps_the_last_characters_even_across_a_cut_character() -> None:
    tail = OutputTail(limit=16)
    tail.add("é".encode() * 20)
    text = tail.text(chars=5)
    assert text == "ééééé"


def test_a_real_child_passes_its_output_and_exit_code() -> None:
    chunks: list[tuple[str, bytes]] = []
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(4)"
    child = spawn_process(
        [sys.executable, "-c", code], {"PATH": "/usr/bin:/bin"}, lambda n, c: chunks.append((n, c))
    )
    assert child.wait() == 4
    assert b"".join(c for n, c in chunks if n == "stdout").strip() == b"out"
    assert b"".join(c for n, c in chunks if n == "stderr").strip() == b"err"


def test_a_real_child_killed_by_a_signal_exits_128_plus_the_signal() -> None:
    started = threading.Event()

    def sink(_name: str, chunk: bytes) -> None:
        if b"ready" in chunk:
            started.set()

    code = "import time; print('ready', flush=True); time.sleep(30)"
    child = spawn_process([sys.executable, "-c", code], {}, sink)
    assert started.wait(WAIT_S)
    child.send_signal(signal.SIGTERM)
    assert child.wait() == 128 + signal.SIGTERM
    child.send_signal(signal.SIGTERM)  # gone: nothing happens


def test_a_missing_command_raises_file_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        spawn_process(["/nonexistent/missiond-test-command"], {}, lambda n, c: None)
