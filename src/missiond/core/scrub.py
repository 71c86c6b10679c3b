"""The scrub pipeline: find secrets in text and rewrite or refuse it.

    scrub(text) -> ScrubResult(outcome, text, findings)

    passed    nothing found; the text is returned unchanged
    redacted  every finding is replaced by a typed marker such as [REDACTED:github_token]
    blocked   a finding that cannot be made safe by cutting it out (a private key block);
              no text is returned at all

Two sources of findings run over the same text:

1. Own rules for the formats agents leak most (cloud keys, forge and chat tokens, LLM
   provider keys, private key blocks, bearer headers, passwords in URLs, `.env` lines).
   They know where the secret starts and ends, so a marker replaces only the secret
   and the surrounding sentence stays readable.
2. detect-secrets (maintained upstream), used through its plugins' own patterns on the
   whole text: every compiled pattern of its regex-based detectors, and its keyword
   detector on lines that mention a keyword. Its entropy detectors are left out (they
   flag commit hashes and digests, which memory is full of) and so is its private-key
   detector (it flags the PEM header alone, which prose mentions; our rule needs a body).

A finding whose value is a placeholder (`${TOKEN}`, `<password>`, `xxxx`, `...EXAMPLE`)
is not a secret. Reports carry types and positions in the original text, never values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

Outcome = Literal["passed", "redacted", "blocked"]
Action = Literal["redact", "block"]
MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


@dataclass(frozen=True, slots=True)
class Finding:
    type: str
    start: int
    end: int
    action: Action
    source: str  # "rule" | "detect-secrets"

    def as_report(self, line: int) -> dict[str, Any]:
        return {"type": self.type, "start": self.start, "end": self.end, "line": line, "action": self.action}


@dataclass(frozen=True, slots=True)
class ScrubResult:
    outcome: Outcome
    text: str | None
    findings: tuple[Finding, ...]
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rule:
    type: str
    pattern: re.Pattern[str]
    group: int = 0  # which group is the secret (0: the whole match)
    action: Action = "redact"
    hints: tuple[str, ...] = ()  # at least one must occur (lowercase: in any case) or the rule cannot match


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


_B64 = r"[A-Za-z0-9+/=_\-]"
_SECRET_NAME = (
    r"[A-Za-z_][A-Za-z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|PASS|PWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CREDENTIALS?|AUTH|DSN)[A-Za-z0-9_]*"
)

# Order matters only for ties: the more specific rule is listed first.
RULES: tuple[Rule, ...] = (
    Rule(
        "private_key",
        _rx(
            # The header, optional "Name: value" header lines, then a base64 body right away
            # (newlines may be real or JSON-escaped); a header alone is prose, not a key.
            r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----[ \t]*(?:\\r|\\n|\r|\n)+"
            r"(?:[A-Za-z][A-Za-z-]*:[^\n\\]*(?:\\n|\n)+)*[ \t]*[A-Za-z0-9+/=]{32,}"
            r"(?:[\s\S]*?-----END \1-----|[\s\S]*\Z)"
        ),
        action="block",
        hints=("private key",),
    ),
    Rule(
        "private_key",
        _rx(
            r"PuTTY-User-Key-File-\d+:[\s\S]*?Private-Lines:\s*\d+\s*" + _B64 + r"{16,}[\s\S]*?(?:\n\s*\n|\Z)"
        ),
        action="block",
        hints=("putty-user-key-file",),
    ),
    Rule(
        "aws_access_key_id",
        _rx(r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
        hints=("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
    ),
    Rule(
        "aws_secret_access_key",
        _rx(r"(?i)aws_?secret_?(?:access_?)?key\b[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
        group=1,
        hints=("aws",),
    ),
    Rule("gcp_api_key", _rx(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"), hints=("AIza",)),
    Rule("gcp_oauth_secret", _rx(r"\bGOCSPX-[A-Za-z0-9_\-]{28}(?![A-Za-z0-9_\-])"), hints=("GOCSPX-",)),
    Rule("github_token", _rx(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b"), hints=("gh",)),
    Rule("github_token", _rx(r"\bgithub_pat_[A-Za-z0-9_]{40,255}\b"), hints=("github_pat_",)),
    Rule(
        "gitlab_token",
        _rx(r"\b(?:glpat|gldt|glrt|glptt|glft|glsoat|gloas)-[A-Za-z0-9_\-]{20,}(?![\w\-])"),
        hints=("gl",),
    ),
    Rule("gitlab_token", _rx(r"\bGR1348941[A-Za-z0-9_\-]{20,}\b"), hints=("GR1348941",)),
    Rule("slack_token", _rx(r"\bxox[abposre]-(?:[A-Za-z0-9]+-){1,4}[A-Za-z0-9]{8,}\b"), hints=("xox",)),
    Rule("slack_token", _rx(r"\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}\b"), hints=("xapp-",)),
    Rule(
        "slack_webhook",
        _rx(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]+/[A-Za-z0-9/]{8,}[A-Za-z0-9]"
        ),
        hints=("hooks.slack.com",),
    ),
    Rule(
        "anthropic_api_key",
        _rx(r"\bsk-ant-(?:[a-z]+\d*-)?[A-Za-z0-9_\-]{32,}(?![A-Za-z0-9_\-])"),
        hints=("sk-ant-",),
    ),
    Rule(
        "openai_api_key",
        _rx(r"\bsk-(?:proj-|svcacct-|admin-|None-)?(?!ant-)[A-Za-z0-9_\-]{32,}(?![A-Za-z0-9_\-])"),
        hints=("sk-",),
    ),
    Rule("stripe_key", _rx(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}\b"), hints=("k_live_", "k_test_")),
    Rule("npm_token", _rx(r"\bnpm_[A-Za-z0-9]{36}\b"), hints=("npm_",)),
    Rule("pypi_token", _rx(r"\bpypi-AgE[A-Za-z0-9_\-]{50,}"), hints=("pypi-AgE",)),
    Rule(
        "jwt", _rx(r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"), hints=("eyJ",)
    ),
    Rule(
        "bearer_token",
        _rx(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]*[0-9][A-Za-z0-9\-._~+/]*=*)(?![A-Za-z0-9\-._~+/$<{])"),
        group=1,
        hints=("bearer",),
    ),
    Rule(
        "basic_auth",
        _rx(r"(?i)\bauthorization\s*:\s*basic\s+([A-Za-z0-9+/]{12,}={0,2})"),
        group=1,
        hints=("basic",),
    ),
    Rule(
        "url_password",
        _rx(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s:/@'\"]{1,128}:([^\s@/'\"]{1,256})@"),
        group=1,
        hints=("://",),
    ),
    Rule(
        "dotenv_secret",
        _rx(
            r"(?m)^[ \t]*(?:export[ \t]+)?" + _SECRET_NAME + r"[ \t]*=[ \t]*[\"']?([^\s\"'#]+)", re.IGNORECASE
        ),
        group=1,
        hints=("=",),
    ),
)

_PLACEHOLDER = _rx(
    r"(?i)^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|\{\{.*\}\}|%\(.*\)s?|\*+|x+|\.+|-+|_+|#+"
    r"|null|none|nil|true|false|changeme|change_me|redacted|secret|password|token|example|\d+)$"
)
_PLACEHOLDER_WORDS = ("example", "your_", "your-", "placeholder", "dummy", "[redacted", "xxxxx", "<", "${")


def is_placeholder(value: str) -> bool:
    """A value that stands for a secret instead of being one."""
    stripped = value.strip().strip("\"'`,;")
    if len(stripped) < 6 or _PLACEHOLDER.match(stripped):
        return True
    lowered = stripped.lower()
    return any(word in lowered for word in _PLACEHOLDER_WORDS) or len(set(stripped)) <= 2


# -- detect-secrets ------------------------------------------------------------------------------
_DS_LEFT_OUT = frozenset(
    {"Base64HighEntropyString", "HexHighEntropyString", "PrivateKeyDetector", "IPPublicDetector"}
)
_DS_TYPE_NAMES = {
    "AWS Access Key": "aws_access_key_id",
    "GitHub Token": "github_token",
    "GitLab Token": "gitlab_token",
    "Slack Token": "slack_token",
    "OpenAI Token": "openai_api_key",
    "Basic Auth Credentials": "url_password",
    "JSON Web Token": "jwt",
    "Secret Keyword": "secret_keyword",
    "Stripe Access Key": "stripe_key",
    "NPM tokens": "npm_token",
    "PyPI Token": "pypi_token",
}


def _type_name(secret_type: str) -> str:
    return _DS_TYPE_NAMES.get(secret_type) or re.sub(r"[^a-z0-9]+", "_", secret_type.lower()).strip("_")


# Necessary literals per detect-secrets type (read off its patterns), so a pattern only
# scans text that could match it; a type without an entry always runs.
_DS_HINTS: dict[str, tuple[str, ...]] = {
    "aws_access_key_id": ("AKIA", "ASIA", "ABIA", "ACCA", "A3T", "aws"),
    "artifactory_credentials": ("AKC", "AP"),
    "azure_storage_account_access_key": ("AccountKey=",),
    "url_password": ("://",),
    "cloudant_credentials": ("cl",),
    "discord_bot_token": (".",),
    "github_token": ("gh",),
    "gitlab_token": ("gl", "GR1348941"),
    "ibm_cos_hmac_credentials": ("secret",),
    "ibm_cloud_iam_key": ("key", "pwd", "pass", "token"),
    "jwt": ("eyJ",),
    "mailchimp_access_key": ("-us",),
    "npm_token": ("_authToken",),
    "openai_api_key": ("T3BlbkFJ",),
    "pypi_token": ("pypi-",),
    "sendgrid_api_key": ("SG.",),
    "slack_token": ("xox", "hooks.slack.com"),
    "softlayer_credentials": ("softlayer", "sl"),
    "square_oauth_secret": ("sq0csp-",),
    "stripe_key": ("k_live_",),
    "twilio_api_key": ("AC", "SK"),
}


@cache
def _ds_plugins() -> tuple[list[tuple[str, re.Pattern[str], tuple[str, ...]]], Any]:
    """(type, pattern, hints) for every regex-based detect-secrets detector, and its keyword detector."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.keyword import KeywordDetector

    patterns: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = []
    mapping: dict[str, type[Any]] = get_mapping_from_secret_type_to_class()
    for secret_type, plugin in sorted(mapping.items()):
        if plugin.__name__ in _DS_LEFT_OUT or not issubclass(plugin, RegexBasedDetector):
            continue
        name = _type_name(secret_type)
        hints = _DS_HINTS.get(name, ())
        patterns.extend((name, regex, hints) for regex in plugin.denylist)  # type: ignore[attr-defined]
    return patterns, KeywordDetector()


@cache
def _fast_ds_patterns() -> list[tuple[str, re.Pattern[str], tuple[str, ...], bool]]:
    """detect-secrets' patterns, each without its leading word-boundary (checked per match)."""
    fast = []
    for name, regex, hints in _ds_plugins()[0]:
        pattern, word_start = _without_leading_boundary(regex)
        fast.append((name, pattern, hints, word_start))
    return fast


def _may_occur(hints: tuple[str, ...], text: str, lowered: str) -> bool:
    """A hint with a capital letter must occur as written; a lowercase one in any case."""
    if not hints:
        return True
    return any((h in text) if h != h.lower() else (h in lowered) for h in hints)


_KEYWORD = _rx(r"(?i)pass|pwd|secret|api_?key|auth_?key|priv|token|contrase")


def _keyword_lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line) of each line that mentions a keyword, once per line."""
    end = -1
    for hit in _KEYWORD.finditer(text):
        if hit.start() <= end:
            continue
        start = text.rfind("\n", 0, hit.start()) + 1
        end = text.find("\n", hit.end())
        end = len(text) if end < 0 else end
        yield start, text[start:end]


def _ds_findings(text: str, lowered: str) -> Iterator[Finding]:
    keyword = _ds_plugins()[1]
    for type_name, regex, hints, word_start in _fast_ds_patterns():
        if not _may_occur(hints, text, lowered):
            continue
        for match in regex.finditer(text):
            if word_start and not _at_word_start(text, match.start()):
                continue
            group = next((i for i in range(1, (regex.groups or 0) + 1) if match.group(i)), 0)
            start, end = match.span(group)
            if end > start:
                yield Finding(type_name, start, end, "redact", "detect-secrets")
    if "'" not in text and '"' not in text:
        return  # the keyword detector (as configured upstream) needs a quoted value
    for offset, line in _keyword_lines(text):
        if ("'" not in line and '"' not in line) or ("=" not in line and ":" not in line):
            continue
        for value in keyword.analyze_string(line):
            at = line.find(value)
            if value and at >= 0:
                start = offset + at
                yield Finding("secret_keyword", start, start + len(value), "redact", "detect-secrets")


# -- the pipeline ----------------------------------------------------------------------------------
def _without_leading_boundary(pattern: re.Pattern[str]) -> tuple[re.Pattern[str], bool]:
    """A leading \\b stops `re` from jumping between occurrences of the literal prefix
    (about 30x slower); the boundary is checked on each match instead."""
    source = pattern.pattern
    flags = "(?i)" if source.startswith("(?i)") else ""
    body = source[len(flags) :]
    if body.startswith("\\b"):
        return re.compile(flags + body[2:], pattern.flags), True
    return pattern, False


def _at_word_start(text: str, position: int) -> bool:
    return position == 0 or not (text[position - 1].isalnum() or text[position - 1] == "_")


_FAST_RULES = [(rule, *_without_leading_boundary(rule.pattern)) for rule in RULES]


def _rule_findings(text: str, lowered: str) -> Iterator[Finding]:
    for rule, pattern, word_start in _FAST_RULES:
        if not _may_occur(rule.hints, text, lowered):
            continue
        for match in pattern.finditer(text):
            if (
                word_start
                and match.start() > 0
                and (text[match.start() - 1].isalnum() or text[match.start() - 1] == "_")
            ):
                continue
            start, end = match.span(rule.group)
            if end > start:
                yield Finding(rule.type, start, end, rule.action, "rule")


def find_secrets(text: str) -> list[Finding]:
    """Every finding, overlaps resolved: a block wins, then our own rule, then the wider span."""
    lowered = text.lower()
    candidates = [
        f
        for f in (*_rule_findings(text, lowered), *_ds_findings(text, lowered))
        if not MARKER.fullmatch(text[f.start : f.end])
        and (f.action == "block" or not is_placeholder(text[f.start : f.end]))
    ]
    candidates.sort(key=lambda f: (f.start, f.action != "block", f.source != "rule", -(f.end - f.start)))
    merged: list[Finding] = []
    for found in candidates:
        if merged and found.start < merged[-1].end:
            last = merged[-1]
            if found.end > last.end:
                merged[-1] = Finding(last.type, last.start, found.end, last.action, last.source)
            elif found.action == "block" and last.action != "block":
                merged[-1] = Finding(found.type, last.start, last.end, "block", found.source)
            continue
        merged.append(found)
    return merged


def scrub(text: str) -> ScrubResult:
    findings = tuple(find_secrets(text))
    lines = _line_starts(text)
    report_items = [f.as_report(_line_of(lines, f.start)) for f in findings]
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.type] = counts.get(f.type, 0) + 1
    if not findings:
        return ScrubResult("passed", text, (), {"outcome": "passed", "findings": [], "counts": {}})
    if any(f.action == "block" for f in findings):
        report = {"outcome": "blocked", "findings": report_items, "counts": counts}
        return ScrubResult("blocked", None, findings, report)
    parts: list[str] = []
    cursor = 0
    for f in findings:
        parts.append(text[cursor : f.start])
        parts.append(f"[REDACTED:{f.type}]")
        cursor = f.end
    parts.append(text[cursor:])
    report = {"outcome": "redacted", "findings": report_items, "counts": counts}
    return ScrubResult("redacted", "".join(parts), findings, report)


def scrub_many(texts: list[str]) -> tuple[Outcome, list[str] | None, list[dict[str, Any]]]:
    """Scrub several fields (tags, say) as one: the worst outcome wins."""
    results = [scrub(t) for t in texts]
    outcome: Outcome = "passed"
    if any(r.outcome == "blocked" for r in results):
        outcome = "blocked"
    elif any(r.outcome == "redacted" for r in results):
        outcome = "redacted"
    if outcome == "blocked":
        return outcome, None, [r.report for r in results]
    return outcome, [r.text or "" for r in results], [r.report for r in results]


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


def _line_of(starts: list[int], position: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if starts[mid] <= position:
            low = mid
        else:
            high = mid - 1
    return low + 1
