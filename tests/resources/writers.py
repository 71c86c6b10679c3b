"""A writer process for the watch tests: PUTs, PATCHes, DELETEs, compare-and-set loops and
transactions on keys shared with the other writers. Imports nothing but httpx, so that a
`spawn`ed child starts fast; any unexpected answer fails the process (non-zero exit code)."""

from __future__ import annotations

import json
import random

import httpx

EXPECTED = {200, 201, 404, 409, 412}
OUTSIDE = "team/outside/"  # a key outside every watched prefix, written inside the same txns


def write(url: str, token: str, prefix: str, seed: int, count: int) -> None:
    rng = random.Random(seed)
    keys = [f"{prefix}k{i}" for i in range(4)]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as client:
        # Every writer starts with a multi-key txn, so each run has transactions to check.
        answers = [
            txn(
                client,
                [put_op(keys[0], seed, -1), put_op(OUTSIDE + str(seed), seed, -1), put_op(keys[1], seed, -1)],
            )
        ]
        for n in range(count):
            key = rng.choice(keys)
            roll = rng.random()
            if roll < 0.3:
                answers.append(client.put(f"/v1/resources/{key}", json={"value": {"by": seed, "n": n}}))
            elif roll < 0.5:
                answers.append(
                    client.patch(
                        f"/v1/resources/{key}",
                        content=json.dumps({"n": n, f"w{seed}": True}),
                        headers={"Content-Type": "application/merge-patch+json"},
                    )
                )
            elif roll < 0.6:
                answers.append(client.delete(f"/v1/resources/{key}"))
            elif roll < 0.75:
                seen = client.get(f"/v1/resources/{key}")
                rev = seen.json()["mod_rev"] if seen.status_code == 200 else 0
                answers.append(
                    client.put(f"/v1/resources/{key}", json={"value": {"cas": n}, "expected_rev": rev})
                )
            else:
                first, second, third = rng.sample(keys, 3)
                ops = [put_op(first, seed, n), {"op": "patch", "key": second, "patch": {"t": n}}]
                ops += [put_op(OUTSIDE + str(seed), seed, n), {"op": "delete", "key": third}]
                answers.append(txn(client, ops[: rng.randint(2, 4)]))
        for answer in answers:
            assert answer.status_code in EXPECTED, (answer.status_code, answer.text)


def put_op(key: str, seed: int, n: int) -> dict[str, object]:
    return {"op": "put", "key": key, "value": {"by": seed, "n": n}}


def txn(client: httpx.Client, ops: list[dict[str, object]]) -> httpx.Response:
    return client.post("/v1/resources:txn", json={"ops": ops})
