"""Prefixed, sortable identifiers (ULIDs). The shell makes them; the core receives them."""

from __future__ import annotations

from ulid import ULID

PREFIXES = frozenset(
    {
        "evt",
        "tok",
        "msn",
        "wi",
        "tsk",
        "rtn",
        "apr",
        "mem",
        "lck",
        "agt",
        "cor",
        "ses",
        "art",
        "lse",
        "nte",
        "stp",
        "run",
        "cmd",
    }
)


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{ULID()}"
