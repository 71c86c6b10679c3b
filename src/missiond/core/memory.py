"""Memory: tiers, partitions, the capability a token carries, and the rules that read them.

Pure values and decisions; the service raises the errors and does the IO.

    tiers (lowest first)  session < project < team < curated
    partition             {org, workspace, project} + tier
    grant                 who may read / write / promote to which tiers of one partition

A denial is a value (`Denial`) naming the rule and, for tier checks, the tier.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

Tier = Literal["session", "project", "team", "curated"]
Kind = Literal["note", "fact", "solution", "pitfall"]
Classification = Literal["internal", "restricted"]
Action = Literal["read", "write", "promote"]

TIERS: tuple[Tier, ...] = get_args(Tier)
KINDS: tuple[Kind, ...] = get_args(Kind)
CLASSIFICATIONS: tuple[Classification, ...] = get_args(Classification)
RANK: dict[str, int] = {tier: i for i, tier in enumerate(TIERS)}

MAX_CONTENT_CHARS = 64 * 1024
MAX_TAGS = 20
MAX_REFS = 20
MAX_QUERY_TERMS = 16
SESSION_TTL_S = 72 * 3600
MAX_TTL_S = 365 * 24 * 3600
GRANT_VERSION = 1

_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_TAG = re.compile(r"[a-z0-9][a-z0-9._:/-]{0,63}")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}")
_WORD = re.compile(r"[^\W_]+")
# Words that carry no meaning for recall. Dropped on both backends so that SQLite (which
# keeps them) and PostgreSQL's english configuration (which drops them) see one query.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "",
    }
)


@dataclass(frozen=True, slots=True)
class Partition:
    org: str
    workspace: str
    project: str

    def scope(self, tier: str) -> str:
        """One opaque token per (partition, tier); the full-text index filters on it."""
        digest = hashlib.sha256(f"{self.org}\x1f{self.workspace}\x1f{self.project}\x1f{tier}".encode())
        return "p" + digest.hexdigest()[:32]

    def as_dict(self) -> dict[str, str]:
        return {"org": self.org, "workspace": self.workspace, "project": self.project}

    def label(self) -> str:
        return f"{self.org}/{self.workspace}/{self.project}"


@dataclass(frozen=True, slots=True)
class Denial:
    code: str
    message: str
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token may do in memory. `partition` None means any partition the request
    names (the admin token); otherwise the token is bound to exactly that partition."""

    subject: str
    partition: Partition | None
    read_tiers: frozenset[str]
    write_tiers: frozenset[str]
    promote_targets: frozenset[str]
    require_review_for_promote: bool = True
    read_audit: bool = False
    expires_at_us: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The shape stored on a token (`api_tokens.partition`), versioned."""
        assert self.partition is not None
        return {
            **self.partition.as_dict(),
            "memory": {
                "v": GRANT_VERSION,
                "read_tiers": ordered(self.read_tiers),
                "write_tiers": ordered(self.write_tiers),
                "promote_targets": ordered(self.promote_targets),
                "require_review_for_promote": self.require_review_for_promote,
                "read_audit": self.read_audit,
                "expires_at_us": self.expires_at_us,
            },
        }

    def as_wire(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "partition": self.partition.as_dict() if self.partition else None,
            "read_tiers": ordered(self.read_tiers),
            "write_tiers": ordered(self.write_tiers),
            "promote_targets": ordered(self.promote_targets),
            "require_review_for_promote": self.require_review_for_promote,
            "read_audit": self.read_audit,
        }


def admin_grant(subject: str) -> Grant:
    every = frozenset(TIERS)
    return Grant(subject, None, every, every, every, require_review_for_promote=False, read_audit=True)


def run_grant(
    subject: str,
    partition: Partition,
    *,
    read_tiers: frozenset[str] | None = None,
    write_tiers: frozenset[str] | None = None,
    promote_targets: frozenset[str] | None = None,
    require_review_for_promote: bool = True,
    read_audit: bool = False,
    expires_at_us: int | None = None,
) -> Grant:
    """A grant with the fail-safe defaults of a run: read session+project, write session,
    promote nothing, review required."""
    return Grant(
        subject=subject,
        partition=partition,
        read_tiers=frozenset({"session", "project"}) if read_tiers is None else read_tiers,
        write_tiers=frozenset({"session"}) if write_tiers is None else write_tiers,
        promote_targets=frozenset() if promote_targets is None else promote_targets,
        require_review_for_promote=require_review_for_promote,
        read_audit=read_audit,
        expires_at_us=expires_at_us,
    )


def grant_from_token(subject: str, stored: dict[str, Any] | None) -> Grant | None:
    """The grant a token carries, or None when it carries none (or an unknown version)."""
    if not stored or not isinstance(stored.get("memory"), dict):
        return None
    memory = stored["memory"]
    if memory.get("v") != GRANT_VERSION:
        return None
    return Grant(
        subject=subject,
        partition=Partition(str(stored["org"]), str(stored["workspace"]), str(stored["project"])),
        read_tiers=_tiers(memory.get("read_tiers")),
        write_tiers=_tiers(memory.get("write_tiers")),
        promote_targets=_tiers(memory.get("promote_targets")),
        require_review_for_promote=bool(memory.get("require_review_for_promote", True)),
        read_audit=bool(memory.get("read_audit", False)),
        expires_at_us=memory.get("expires_at_us"),
    )


def _tiers(value: Any) -> frozenset[str]:
    # Unknown names on a stored token are ignored (fail safe), never widened.
    return frozenset(t for t in (value or []) if t in RANK)


def ordered(tiers: frozenset[str] | set[str] | list[str]) -> list[str]:
    return sorted(set(tiers), key=RANK.__getitem__)


# -- decisions --------------------------------------------------------------------------------------
def check_expiry(grant: Grant, now_us: int) -> Denial | None:
    if grant.expires_at_us is not None and grant.expires_at_us <= now_us:
        return Denial("MEMORY_TOKEN_EXPIRED", "the memory capability of this token has expired")
    return None


def check_partition(grant: Grant, partition: Partition) -> Denial | None:
    if grant.partition is not None and grant.partition != partition:
        return Denial(
            "MEMORY_PARTITION_FORBIDDEN",
            f"this token is bound to partition {grant.partition.label()}, not {partition.label()}",
        )
    return None


def check_tier(grant: Grant, action: Action, tier: str) -> Denial | None:
    allowed = {"read": grant.read_tiers, "write": grant.write_tiers, "promote": grant.promote_targets}[action]
    if tier not in allowed:
        verb = {"read": "read", "write": "write to", "promote": "promote to"}[action]
        return Denial("MEMORY_TIER_FORBIDDEN", f"this token may not {verb} the {tier!r} tier", tier=tier)
    return None


def check_promotion(source_tier: str, target_tier: str) -> Denial | None:
    if RANK[target_tier] <= RANK[source_tier]:
        return Denial(
            "MEMORY_PROMOTION_NOT_UPWARD",
            f"a promotion goes up: {target_tier!r} is not above {source_tier!r}",
            tier=target_tier,
        )
    return None


def review_required(grant: Grant, target_tier: str) -> bool:
    """Curated memory is what agents use automatically, so it is always reviewed."""
    return target_tier == "curated" or grant.require_review_for_promote


def split_tiers(grant: Grant, wanted: tuple[str, ...] | None) -> tuple[list[str], list[str]]:
    """(used, blocked) for a search over `wanted` tiers (all tiers when None)."""
    asked = ordered(list(wanted)) if wanted else list(TIERS)
    return [t for t in asked if t in grant.read_tiers], [t for t in asked if t not in grant.read_tiers]


# -- input ------------------------------------------------------------------------------------------
def slug_problem(value: str) -> str | None:
    if not _SLUG.fullmatch(value):
        return "1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


def tag_problem(value: str) -> str | None:
    if not _TAG.fullmatch(value):
        return "1-64 lowercase letters, digits or '.', '_', ':', '/', '-', starting with a letter or digit"
    return None


def ref_problem(value: str) -> str | None:
    if not _REF.fullmatch(value):
        return "1-200 characters: letters, digits and . _ : / @ + = -"
    return None


def search_terms(query: str) -> tuple[str, ...]:
    """The words a query searches for: lowercased, stopwords dropped, first occurrence kept."""
    words = (w.lower() for w in _WORD.findall(query))
    kept = dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) <= 64)
    return tuple(kept)[:MAX_QUERY_TERMS]


def tags_text(tags: list[str]) -> str:
    """Tags as indexed text: `ci/flaky-test` also matches the words `ci`, `flaky`, `test`."""
    return " ".join(tags)
