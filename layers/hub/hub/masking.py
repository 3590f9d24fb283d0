"""One masking for everything the hub sends to an operator: log lines and error reports.

Callers already keep secrets and message bodies out of messages (hub.errors, the adapters'
``scrub``); this is the net under them. Two rules, applied to any JSON-like value:

* **By key**: a mapping entry whose key names a credential or personal data (``authorization``,
  ``api_key``, ``token``, ``password``, ``secret``, ``signature``, ``cookie``, ``dsn``,
  ``prompt``, ``body``, ``phone``, ``email``, ``cpf``, ``cnpj``…) has its text replaced by
  :data:`MASK`, whatever it holds. Numbers and booleans stay (``input_tokens: 812`` is a count,
  not a token), except under the personal-data keys.
* **By shape**: in any text, what looks like an email address, a phone number (E.164 ``+55 11
  91234-5678``, a WhatsApp id ``5511912345678``, Brazilian ``(11) 91234-5678``), a CPF or CNPJ
  (formatted, or bare digits whose check digits hold), an ``Authorization`` value (``Bearer …``,
  ``Basic …``), a JWT, a vendor key (``sk-…``, ``sk_live_…``, ``whsec_…``, ``AIza…``), the
  password or key in a URL (``https://user:pass@``, a Sentry DSN) or a credential in a query
  string (``?access_token=…``) is replaced by :data:`MASK`.

Wired into the Logger's formatter (hub.observability) and Sentry's ``before_send`` /
``before_breadcrumb`` (hub.errortracking), so both show the same thing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

MASK = "[masked]"

# Keys whose values are personal data: masked whatever their type.
_PII_KEY_PARTS = ("phone", "email", "e_mail", "cpf", "cnpj", "whatsapp", "wa_id", "msisdn")
# Keys whose text values are credentials or content: masked when they hold text or structures.
_SECRET_KEY_PARTS = (
    "secret",
    "token",
    "password",
    "passwd",
    "authorization",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "private_key",
    "credential",
    "cookie",
    "signature",
    "dsn",
    "prompt",
    "body",
    "messages",
    "session",
)

_EMAIL = r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_AUTH_VALUE = r"(?i:\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=:-]{6,}"
_JWT = r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
_VENDOR_KEY = (
    r"\b(?:sk-[A-Za-z0-9_-]{16,}|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9+/=]{8,}"
    r"|AIza[0-9A-Za-z_-]{30,}|AKIA[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{8,}|gh[pousr]_[A-Za-z0-9]{20,})"
)
# The userinfo of a URL (``https://user:pass@host``, a DSN's public key ``https://key@host``).
_URL_USERINFO = r"(?<=://)[^/\s:@]+(?::[^/\s@]*)?(?=@)"
# A credential-named query parameter: the name is kept (group 1), its value masked.
_QUERY = re.compile(
    r"(?i)((?<=[?&;])(?:access_token|refresh_token|id_token|token|api_key|apikey|key|secret|client_secret|"
    r"password|signature|sig|code|hub\.verify_token|sentry_key)=)[^&\s#\"']+"
)
_PHONE_E164 = r"(?<![\w+])\+\d(?:[\s.()-]{0,2}\d){7,14}(?!\d)"
# Not after ":" (an AWS account id in an ARN may start with 55).
_PHONE_WA = r"(?<![\d:])55\d{10,11}(?!\d)"
_PHONE_BR = r"(?<![\w(])\(?\d{2}\)?[\s.-]?9?\d{4}-\d{4}(?!\d)"
_CPF = r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)"
_CNPJ = r"(?<![\d.])\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}(?!\d)"
_BARE_DOCUMENT = re.compile(r"(?<![\d.])(\d{11}|\d{14})(?![\d])")

_LONG_DIGITS = re.compile(r"\d{10}")
_GROUPED_PHONE = re.compile(r"\d{4}-\d{4}")
_AUTH_WORDS = re.compile(r"(?i)bearer|basic|token")
_VENDOR_PREFIXES = re.compile(r"sk[-_]|[rp]k_|whsec_|AIza|AKIA|xox|gh[pousr]_")
# What any shape needs somewhere in the text: most log values ("INFO", "record_failed", a function
# name, a request id) have none of it and are returned as they are.
_ANY_SHAPE = re.compile(
    r"[@+/=]|%40|\d{4}-\d{4}|\d{10}|\d{3}\.\d{3}|eyJ|(?i:bearer|basic|token)|sk[-_]|[rp]k_|whsec_|AIza|AKIA|xox|gh[pousr]_"
)

# Each shape with a cheap test of whether the text can hold it at all (a log line runs through
# every one: most lines have no "@", no "+", no 10-digit run, and skip most regexes). In order:
# a later shape never sees what an earlier one masked.
_SHAPES: tuple[tuple[Callable[[str], bool], re.Pattern[str]], ...] = (
    (lambda t: "@" in t, re.compile(_URL_USERINFO)),
    (lambda t: "@" in t or "%40" in t, re.compile(_EMAIL)),
    (lambda t: _AUTH_WORDS.search(t) is not None, re.compile(_AUTH_VALUE)),
    (lambda t: "eyJ" in t, re.compile(_JWT)),
    (lambda t: _VENDOR_PREFIXES.search(t) is not None, re.compile(_VENDOR_KEY)),
    (lambda t: "+" in t, re.compile(_PHONE_E164)),
    (lambda t: _LONG_DIGITS.search(t) is not None, re.compile(_PHONE_WA)),
    (lambda t: _GROUPED_PHONE.search(t) is not None, re.compile(_PHONE_BR)),
    (lambda t: "." in t and "-" in t, re.compile(_CPF)),
    (lambda t: "/" in t, re.compile(_CNPJ)),
)


def _bare_document(match: re.Match[str]) -> str:
    # The hub's one CPF/CNPJ check (validate-docbr), imported only when a bare 11/14-digit run
    # shows up: most log lines never need it.
    from hub.documents import is_valid_tax_id

    digits = match.group(1)
    return MASK if is_valid_tax_id(digits) else digits


def mask_text(text: str) -> str:
    """``text`` with every credential and personal datum of a known shape replaced by MASK."""
    if len(text) < 6 or _ANY_SHAPE.search(text) is None:  # nothing masked is shorter than 6
        return text
    masked = _QUERY.sub(lambda m: m.group(1) + MASK, text) if "=" in text else text
    for may_hold, shape in _SHAPES:
        if may_hold(masked):
            masked = shape.sub(MASK, masked)
    if _LONG_DIGITS.search(masked):
        masked = _BARE_DOCUMENT.sub(_bare_document, masked)
    return masked


@functools.lru_cache(maxsize=1024)  # a log line's keys are the same few names, line after line
def _key_kind(key: str) -> str | None:
    lowered = key.lower()
    if any(part in lowered for part in _PII_KEY_PARTS):
        return "pii"
    if any(part in lowered for part in _SECRET_KEY_PARTS):
        return "secret"
    return None


def mask_value(value: Any, key: str | None = None) -> Any:
    """A copy of ``value`` (mappings, lists, tuples, text, numbers) masked by key and by shape."""
    kind = _key_kind(key) if key is not None else None
    if isinstance(value, str):  # the common case first: a log line is mostly text
        if kind is not None:
            return MASK if value else value
        return mask_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if kind == "pii":
            return MASK
        if isinstance(value, int) and 10**10 <= abs(value) < 10**14:
            # A phone or a document held as a number (a WhatsApp id parsed from JSON).
            text = str(value)
            return MASK if mask_text(text) != text else value
        return value
    if kind is not None and isinstance(value, bytes | Mapping | list | tuple):
        return MASK if value else value
    if isinstance(value, Mapping):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value
