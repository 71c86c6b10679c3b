"""`missiond task work`: claim a task, run a command while keeping the lease alive, then
complete the task or hand it back.

- The command gets `MISSIOND_TASK_ID`, `MISSIOND_LEASE_ID` and
  `MISSIOND_FENCING_TOKEN` (and `MISSIOND_URL`, `MISSIOND_TOKEN`, so that
  `missiond task note "$MISSIOND_TASK_ID" ...` inside it speaks as the holder).
- A background thread renews the lease every ttl/3.
- Exit 0: the task is completed; its outcome is the tail of the command's
  output (stdout and stderr, as they arrived), or "exit 0" when it printed
  nothing. Any other exit: the lease is released with an `attempt` note naming
  the exit code, plus the output tail, and the task is ready again.
- A lease lost while the command runs (a renewal answered LEASE_EXPIRED, say)
  is reported at once; when the command ends the task is left alone and
  missiond exits 1 with that error.
- SIGINT (Ctrl-C) and SIGTERM are passed on to the command; when it has
  exited the lease is released and missiond exits 128 + the signal (130 for
  Ctrl-C). A second one kills the command.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from missiond.cli.output import Output
from missiond.cli.process import Child, Clock, Spawn, signal_name
from missiond.sdk import (
    Claim,
    Client,
    MissiondError,
    ProblemError,
    RateLimited,
    ServerError,
)

TAIL_CHARS = 2000
# Kept bytes: enough for TAIL_CHARS characters of any UTF-8 text, plus a cut multi-byte sequence.
TAIL_BYTES = TAIL_CHARS * 4 + 8
COMMAND_CHARS = 200
EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class OutputTail:
    """The last bytes of the command's combined output (thread safe)."""

    def __init__(self, limit: int = TAIL_BYTES) -> None:
        self._limit = limit
        self._data = bytearray()
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self._data += chunk
            if len(self._data) > self._limit:
                del self._data[: len(self._data) - self._limit]

    def text(self, chars: int = TAIL_CHARS) -> str:
        with self._lock:
            data = bytes(self._data)
        return data.decode("utf-8", errors="replace")[-chars:].strip()


def lease_lost(error: MissiondError) -> bool:
    """True when a renewal's failure means the lease is gone, not that the server is busy."""
    return isinstance(error, ProblemError) and not isinstance(error, ServerError | RateLimited)


class LeaseKeeper:
    """Renews a lease every ttl/3 in a background thread until stopped, or until it is lost."""

    def __init__(self, client: Client, claim: Claim, ttl_s: float, clock: Clock, out: Output) -> None:
        self.client = client
        self.claim = claim
        self.ttl_s = ttl_s
        self.interval = ttl_s / 3
        self.clock = clock
        self.out = out
        self.renewals = 0
        self.lost: ProblemError | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="missiond-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        lease = self.claim.lease
        while not self.clock.wait(self._stop, self.interval):
            try:
                self.client.renew_lease(lease.id, ttl_s=self.ttl_s, fencing_token=lease.fencing_token)
            except MissiondError as error:
                if self._stop.is_set():
                    return
                if isinstance(error, ProblemError) and lease_lost(error):
                    self.lost = error
                    self.out.note(
                        f"missiond: lost the lease {lease.id} on {self.claim.task.id} ({error}); "
                        "the task will not be completed when the command ends"
                    )
                    return
                self.out.note(
                    f"missiond: could not renew the lease {lease.id} ({error}); "
                    f"trying again in {self.interval:g}s"
                )
            else:
                self.renewals += 1


def command_env(client: Client, claim: Claim) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MISSIOND_TASK_ID=claim.task.id,
        MISSIOND_LEASE_ID=claim.lease.id,
        MISSIOND_FENCING_TOKEN=str(claim.lease.fencing_token),
        MISSIOND_URL=client.base_url,
    )
    if client.config.token:
        env["MISSIOND_TOKEN"] = client.config.token
    return env


class SignalRelay:
    """While installed, SIGINT and SIGTERM are passed on to the child instead of stopping us."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.child: Child | None = None
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        # Python only lets the main thread set handlers; elsewhere signals are not ours anyway.
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in FORWARDED_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def attach(self, child: Child) -> None:
        self.child = child
        if self.received:  # a signal arrived while the command was starting
            child.send_signal(self.received[0])

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        first = not self.received
        self.received.append(signum)
        if self.child is None:
            return
        if first:
            self.out.note(
                f"missiond: {signal_name(signum)}: passing it on to the command, then releasing the lease "
                "(again to kill the command)"
            )
            self.child.send_signal(signum)
        else:
            self.out.note("missiond: killing the command")
            self.child.send_signal(signal.SIGKILL)

    @property
    def signal(self) -> int | None:
        return self.received[0] if self.received else None


def describe_claim(claim: Claim, ttl_s: float, argv: Sequence[str]) -> str:
    return (
        f"missiond: claimed {claim.task.id} {claim.task.title!r} (lease {claim.lease.id}, "
        f"fencing token {claim.lease.fencing_token}, ttl {ttl_s:g}s); running: {command_text(argv)}"
    )


def command_text(argv: Sequence[str], limit: int = COMMAND_CHARS) -> str:
    text = shlex.join(argv)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attempt_note(argv: Sequence[str], how: str, tail: str) -> str:
    head = f"`{command_text(argv)}` {how} (missiond task work)"
    return f"{head}\n\n{tail}" if tail else head


def run_claimed(
    client: Client,
    claim: Claim,
    argv: Sequence[str],
    *,
    ttl_s: float,
    spawn: Spawn,
    clock: Clock,
    out: Output,
    write: Callable[[str, bytes], None],
) -> int:
    """Run `argv` for a claimed task; returns the exit code for missiond (raises on lost leases)."""
    task, lease = claim.task, claim.lease
    tail = OutputTail()

    def sink(name: str, chunk: bytes) -> None:
        tail.add(chunk)
        write(name, chunk)

    out.note(describe_claim(claim, ttl_s, argv))
    keeper = LeaseKeeper(client, claim, ttl_s, clock, out)
    relay = SignalRelay(out)
    relay.install()
    try:
        try:
            child = spawn(argv, command_env(client, claim), sink)
        except OSError as error:
            code = EXIT_NOT_FOUND if isinstance(error, FileNotFoundError) else EXIT_CANNOT_EXECUTE
            note = attempt_note(argv, f"could not start: {error}", "")
            client.release_lease(lease.id, fencing_token=lease.fencing_token, outcome=note)
            out.note(f"missiond: could not start {argv[0]!r}: {error}; released {task.id}")
            return code
        relay.attach(child)
        keeper.start()
        try:
            code = child.wait()
        finally:
            keeper.stop()
    finally:
        relay.restore()

    if keeper.lost is not None:
        out.note(f"missiond: the command exited {code}; {task.id} was not completed: its lease is gone")
        raise keeper.lost
    text = tail.text()
    if relay.signal is not None:
        name = signal_name(relay.signal)
        note = attempt_note(argv, f"was interrupted ({name}) and exited {code}", text)
        client.release_lease(lease.id, fencing_token=lease.fencing_token, outcome=note)
        out.note(f"missiond: {name}: released {task.id}; it is ready again")
        return 128 + relay.signal
    if code == 0:
        client.complete_task(task.id, text or "exit 0", fencing_token=lease.fencing_token)
        out.note(f"missiond: completed {task.id}")
        return 0
    note = attempt_note(argv, f"exited {code}", text)
    client.release_lease(lease.id, fencing_token=lease.fencing_token, outcome=note)
    out.note(f"missiond: the command exited {code}; released {task.id} with an attempt note")
    return code


def binary_writer() -> Callable[[str, bytes], None]:
    """Pass the command's output on to our own stdout and stderr, as it arrives."""
    streams = {"stdout": sys.stdout, "stderr": sys.stderr}
    lock = threading.Lock()

    def write(name: str, chunk: bytes) -> None:
        text = streams[name]
        with lock:
            text.flush()  # what we printed before comes first
            binary = getattr(text, "buffer", None)
            if binary is not None:
                binary.write(chunk)
                binary.flush()
            else:
                text.write(chunk.decode("utf-8", errors="replace"))
                text.flush()

    return write
