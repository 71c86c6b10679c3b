"""The body of a claiming process, spawned by test_claim_races.py. It imports only httpx,
so a spawned child starts quickly."""

from __future__ import annotations

import traceback
from typing import Any

import httpx

TIMEOUT_S = 60.0
MAX_ERRORS = 20


def claim_until_empty(url: str, token: str, name: str, ready: Any, go: Any, results: Any) -> None:
    """Claim the best ready task again and again until the server answers 204."""
    claimed: list[str] = []
    errors: list[str] = []
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT_S) as client:
            assert client.get("/v1/whoami").status_code == 200  # connected before the start line
            ready.put(name)
            if not go.wait(TIMEOUT_S):
                raise TimeoutError("never told to go")
            while len(errors) < MAX_ERRORS:
                answer = client.post("/v1/tasks/claim", json={"ttl_s": 600})
                if answer.status_code == 204:
                    break
                if answer.status_code == 200:
                    claimed.append(answer.json()["task"]["id"])
                else:
                    errors.append(f"{answer.status_code} {answer.text}")
        results.put((name, claimed, errors, None))
    except BaseException:
        results.put((name, claimed, errors, traceback.format_exc()))
