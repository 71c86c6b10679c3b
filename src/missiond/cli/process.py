"""The command `missiond task work` runs, and the clock that paces its lease renewals.

Both are seams (`CliDeps.spawn`, `CliDeps.clock`): tests hand in a fake child
and a clock that does not sleep.

The command runs in its own process group, so a Ctrl-C at the terminal
reaches it once, passed on by missiond (which must hear it too, to release the
lease). Its stdout and stderr are read through pipes and handed to a sink,
which passes them on and keeps the tail. When missiond's stdin is a terminal
the command gets /dev/null instead: a background process group that reads the
terminal would be stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Protocol

# How long to keep reading output after the command exited (a grandchild may hold the pipe).
READER_GRACE_S = 2.0
CHUNK_BYTES = 65536

OutputSink = Callable[[str, bytes], None]
"""Receives each chunk of the command's output: `("stdout" | "stderr", bytes)`."""


class Child(Protocol):
    """A running command."""

    def wait(self) -> int:
        """Block until it exits; its status as a shell reports it (128 + N when killed by signal N)."""
        ...

    def send_signal(self, signum: int) -> None:
        """Signal the command (its whole process group); a no-op once it is gone."""
        ...


Spawn = Callable[[Sequence[str], Mapping[str, str], OutputSink], Child]
"""Start `argv` with `env`, its output going to the sink. Raises OSError when it cannot start."""


class Clock(Protocol):
    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Sleep up to `seconds`; True as soon as `stop` is set."""
        ...


class RealClock:
    def wait(self, stop: threading.Event, seconds: float) -> bool:
        return stop.wait(seconds)


def _pump(stream: IO[bytes], name: str, sink: OutputSink) -> None:
    try:
        read = getattr(stream, "read1", stream.read)
        while chunk := read(CHUNK_BYTES):
            sink(name, chunk)
    except (OSError, ValueError):  # the pipe was closed under us
        pass
    finally:
        stream.close()


class Process:
    """A real child process (`subprocess.Popen`) in its own process group."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], sink: OutputSink) -> None:
        stdin = subprocess.DEVNULL if sys.stdin is not None and sys.stdin.isatty() else None
        self._proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,
        )
        self.pid = self._proc.pid
        self._readers = []
        for name, stream in (("stdout", self._proc.stdout), ("stderr", self._proc.stderr)):
            assert stream is not None
            reader = threading.Thread(
                target=_pump, args=(stream, name, sink), name=f"missiond-{name}", daemon=True
            )
            reader.start()
            self._readers.append(reader)

    def wait(self) -> int:
        status = self._proc.wait()
        for reader in self._readers:
            reader.join(READER_GRACE_S)
        return 128 - status if status < 0 else status

    def send_signal(self, signum: int) -> None:
        if self._proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signum)


def spawn_process(argv: Sequence[str], env: Mapping[str, str], sink: OutputSink) -> Child:
    return Process(argv, env, sink)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
