# ruff: noqa: E501  (a data table: one leak per entry reads better than wrapped strings)
"""Leaked-secret texts as agents write them, with the expected outcome and marker, and
harmless texts that look like secrets. Secret values are assembled from parts so this file
itself does not trip secret scanners; the assembled value is what must never survive."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Leak:
    id: str
    text: str
    secret: str  # the part that must not survive anywhere
    outcome: str  # redacted | blocked
    marker: str | None  # e.g. [REDACTED:github_token]; None when blocked


def _leak(id: str, template: str, secret: str, outcome: str = "redacted", marker: str | None = None) -> Leak:
    return Leak(id, template.format(s=secret), secret, outcome, marker)


GH = "ghp_" + "R8mZqk2Lw9XcVb4Tn6Yp" + "1Hs3Dj5Fg7Ka0Qe2"
KEY_BODY = "\n".join(["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"] * 6)

LEAKS = [
    _leak("github-pat-in-env", "fixed CI: GITHUB_TOKEN={s} in the workflow env", GH, marker="[REDACTED:github_token]"),
    _leak("github-fine-grained", "push used github_pat_{s}", "11ABCDEFG0" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefghijklmnop",
          marker="[REDACTED:github_token]"),
    _leak("aws-access-key", "boto3 worked once I exported {s} as the key id", "AKIA" + "Z3MPLKEYQ7T4XWBR",
          marker="[REDACTED:aws_access_key_id]"),
    _leak("aws-secret-key", "aws_secret_access_key = {s}", "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzq8h4Lk2Mn",
          marker="[REDACTED:aws_secret_access_key]"),
    _leak("gcp-api-key", "maps client: key={s}", "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", marker="[REDACTED:gcp_api_key]"),
    _leak("gitlab-pat", "clone with https://oauth2:x@gitlab.com works, or set PRIVATE-TOKEN: {s}",
          "glpat-" + "9xYzAbCdEfGhIjKlMnOp", marker="[REDACTED:gitlab_token]"),
    _leak("slack-bot", "post to #ci with {s}", "xoxb-" + "1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
          marker="[REDACTED:slack_token]"),
    _leak("slack-webhook", "alerts go to {s}", "https://hooks.slack.com/services/" + "T04K7PL2Q/B05R9ZC3M1N/t8Hq3Zr9Kp2Lm5Nv7Wx1Yz4A",
          marker="[REDACTED:slack_webhook]"),
    _leak("openai-key", "OPENAI_API_KEY={s}", "sk-proj-" + "Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901",
          marker="[REDACTED:openai_api_key]"),
    _leak("anthropic-key", "export ANTHROPIC_API_KEY={s}", "sk-ant-api03-" + "a1B2c3D4e5F6g7H8i9J0" * 4,
          marker="[REDACTED:anthropic_api_key]"),
    _leak("bearer-header", "curl -H 'Authorization: Bearer {s}' https://api.internal/v1",
          "7f3a9c2e1b8d4f6a" + "0c5e9b3d7f1a2c4e", marker="[REDACTED:bearer_token]"),
    _leak("password-in-url", "DATABASE_URL=postgresql://app:{s}@db.internal:5432/app", "S3cr3tPassw0rd" + "99",
          marker="[REDACTED:url_password]"),
    _leak("dotenv-line", "from .env:\nSTRIPE_WEBHOOK_SECRET={s}\nDEBUG=1", "whsec" + "_9fK2mQ7xLp4vN8rT",
          marker="[REDACTED:dotenv_secret]"),
    _leak("keyword-password", 'settings.py had password = "{s}" for the staging db', "hunter2" + "hunter2",
          marker="[REDACTED:secret_keyword]"),
    _leak("jwt", "session cookie was {s}", "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
          marker="[REDACTED:jwt]"),
    _leak("rsa-private-key", "the deploy key:\n{s}\nuse it with ssh -i",
          "-----BEGIN RSA PRIVATE KEY-----\n" + KEY_BODY + "\n-----END RSA PRIVATE KEY-----", outcome="blocked"),
    _leak("openssh-private-key", "{s}", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + KEY_BODY + "\n-----END OPENSSH PRIVATE KEY-----",
          outcome="blocked"),
    _leak("gcp-service-account-json", '{{"type": "service_account", "private_key": "{s}"}}',
          "-----BEGIN PRIVATE KEY-----\\n" + KEY_BODY.replace("\n", "\\n") + "\\n-----END PRIVATE KEY-----\\n",
          outcome="blocked"),
]  # fmt: skip

HARMLESS = {
    "git-sha": "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the flaky test",
    "uuid-and-digest": "run 123e4567-e89b-12d3-a456-426614174000 pulled sha256:"
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    "bearer-placeholders": "send the Authorization: Bearer $TOKEN header (or Bearer <token>)",
    "url-without-password": "postgresql://postgres@127.0.0.1:5432/test and https://user:${PASSWORD}@example.com",
    "env-placeholders": "API_KEY=\nDB_PASSWORD=${DB_PASSWORD}\nMAX_TOKENS=4096\nTOKEN_TTL=3600",
    "public-key-block": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
    "-----END PUBLIC KEY-----",
    "token-prefixes-in-prose": "ghp_ tokens are GitHub PATs; Slack bot tokens start with xoxb-",
    "aws-documented-example": "the example key AKIAIOSFODNN7EXAMPLE from the AWS docs",
    "sk-lookalikes": "use the sk-learn library, risk-free; task-runner-pipeline-for-the-nightly-build",
    "password-prose": "password reset flow: the user enters the password twice",
    "env-lookup": 'token = os.environ["GITHUB_TOKEN"]',
    "pem-header-in-prose": "PEM files start with -----BEGIN RSA PRIVATE KEY----- and end with an END line",
    "already-redacted": "the token was [REDACTED:github_token] before promotion",
}
