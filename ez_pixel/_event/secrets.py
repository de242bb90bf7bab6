"""What a secret looks like: key names (by whole segments) and well-known token shapes.

Key names are split into lower-case segments (``aws_secret_access_key`` →
``aws secret access key``, ``apiKey`` → ``api key``) and a key is secret when
its last segments are a secret name: ``db_password`` and ``X-Api-Key`` are,
``password_min_length``, ``max_tokens``, ``session_timeout`` and
``secretary_id`` are not. Token shapes follow the public rule sets of
detect-secrets and gitleaks (our own expressions): provider prefixes with
their lengths, private-key blocks, JWTs, credentials in URLs, and card
numbers that pass the Luhn check.
"""

import re
from typing import Dict, FrozenSet, Iterable, Tuple

#: Key names (as segment tuples) whose values are secrets, matched at the key's end.
SECRET_NAMES: Tuple[Tuple[str, ...], ...] = tuple(
    tuple(name.split())
    for name in (
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "pass",
        "secret",
        "token",
        "cookie",
        "credential",
        "credentials",
        "dsn",
        "session",
        "authorization",
        "signature",
        "sig",
        "apikey",
        "api key",
        "access key",
        "accesskey",
        "secret key",
        "secretkey",
        "private key",
        "privatekey",
        "signing key",
        "encryption key",
        "master key",
        "account key",
        "app key",
        "auth key",
        "session id",
        "sessionid",
        "connection string",
    )
)
#: Names that are secret only after another segment: ``PWD`` alone is the working directory.
NOT_ALONE: FrozenSet[str] = frozenset(("pwd", "pass"))

_SEGMENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def segments(key: str) -> Tuple[str, ...]:
    """``key``'s words, lower-cased: ``"apiKey"`` and ``"API_KEY"`` give ``("api", "key")``."""
    return tuple(part.lower() for part in _SEGMENT.findall(key))


class KeyNames:
    """Decides whether a key names a secret; remembers its answers (keys repeat)."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        names = list(SECRET_NAMES)
        names += [segments(key) for key in extra if segments(key)]
        self._names = tuple(names)
        self._seen: Dict[str, bool] = {}

    def secret(self, key: str) -> bool:
        """Whether the value under ``key`` is a secret."""
        known = self._seen.get(key)
        if known is None:
            known = self._decide(segments(key))
            if len(self._seen) < 4096:
                self._seen[key] = known
        return known

    def _decide(self, words: Tuple[str, ...]) -> bool:
        if not words or (len(words) == 1 and words[0] in NOT_ALONE):
            return False
        return any(words[-len(name) :] == name for name in self._names)


#: Words that must appear (lower-cased) before a key=value search is worth running.
KEY_HINTS = (
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "cookie",
    "credential",
    "dsn",
    "session",
    "auth",
    "sig",
    "connection",
)

#: The first and last lines of a private key block (PEM, OpenSSH, PGP).
PRIVATE_KEY_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
PRIVATE_KEY_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
#: Private key blocks, to their end or the end of the text.
PRIVATE_KEY_BLOCK = rf"{PRIVATE_KEY_BEGIN}[\s\S]*?(?:{PRIVATE_KEY_END}|$)"

#: Strings that are secrets wherever they appear (replaced whole); each starts a word.
TOKEN_SHAPES = (
    # Bearer tokens: a digit, or long enough not to be a word ("bearer authentication").
    r"\b(?i:bearer)\s+(?:(?=[A-Za-z0-9\-._~+/]*[0-9])[A-Za-z0-9\-._~+/]{8,}|"
    r"[A-Za-z0-9\-._~+/]{24,})=*",
    r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",  # AWS key ids
    r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,}\b",  # Stripe
    r"\bwhsec_[0-9A-Za-z]{20,}\b",  # Stripe webhook signing secrets
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",  # GitHub classic tokens
    r"\bgithub_pat_[A-Za-z0-9_]{30,}\b",  # GitHub fine-grained tokens
    r"\bglpat-[A-Za-z0-9_-]{20,}\b",  # GitLab
    r"\bxox[abposre]-[A-Za-z0-9-]{10,}\b",  # Slack tokens
    r"\bxapp-\d-[A-Za-z0-9-]{10,}\b",  # Slack app tokens
    r"\bhttps://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{8,}",
    r"\bhttps://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+",
    r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API keys
    r"\bya29\.[0-9A-Za-z_-]{20,}",  # Google OAuth access tokens
    r"\bsk-(?:proj-|ant-(?:api|admin)\d\d-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",  # OpenAI & co
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWTs
    r"\bnpm_[A-Za-z0-9]{36}\b",  # npm tokens
    r"\bpypi-AgE[A-Za-z0-9_-]{50,}",  # PyPI upload tokens
    r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",  # SendGrid
    r"\bSK[0-9a-fA-F]{32}\b",  # Twilio API keys
    r"\bkey-[0-9a-zA-Z]{32}\b",  # Mailgun
    r"\b[0-9]{8,10}:AA[0-9A-Za-z_-]{33}\b",  # Telegram bot tokens
    r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",  # Shopify
    r"\bdo[por]_v1_[a-f0-9]{64}\b",  # DigitalOcean
    r"\bhv[sb]\.[A-Za-z0-9_-]{24,}",  # HashiCorp Vault
    r"\bsq0(?:atp|csp)-[0-9A-Za-z_-]{22,}",  # Square
)

#: 13 to 19 digits, maybe in groups: a card number if it passes :func:`is_card`.
CARD_CANDIDATE = r"(?<![\w.-])[2-6](?:[ -]?[0-9]){12,18}(?![\w-])"
#: ``scheme://user:password@host``; the user may be empty (``redis://:pw@host``).
URL_PASSWORD = r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]*:(?P<urlpw>[^\s@/'\"]+)@"


def is_card(text: str) -> bool:
    """Whether ``text`` is a payment card number: a card network's prefix and the Luhn check."""
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    if digits[0] == 2 and not 2221 <= int("".join(map(str, digits[:4]))) <= 2720:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0
