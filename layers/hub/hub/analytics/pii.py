"""Personal data never leaves for an analytics sink unless the org's mapping allows that field.

A mapped property is dropped when its source field is one the hub knows holds personal data
(addresses, phones, names, CPF/CNPJ: :data:`PII_FIELDS`) or when its value holds an email
address, a phone number (libphonenumber, the hub's ``hub.phones``) or a valid CPF/CNPJ (the
hub's ``hub.documents`` check digits). Text holding one anywhere is dropped whole: a masked
sentence would still tell the vendor about a person. The actor's id (``distinct_id``) that is
personal data becomes an org-scoped pseudonym (a SHA-256) instead.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

# Detail fields of the hub's events that hold personal data whatever their value looks like
# (hub.events models, docs/events.md): names are not recognisable by their shape.
PII_FIELDS = frozenset(
    {
        "from_address",
        "from_name",
        "recipient",
        "to",
        "author_name",
        "author_id",
        "email",
        "phone",
        "name",
        "customer_name",
        "customer_email",
        "customer_phone",
        "cpf_cnpj",
        "cpf",
        "cnpj",
        "document",
        "address",
        "text",
        "subject",
        "query",
        "q",
        "contact",
        "contact_hash",
        "destination",
        "requested_by",
        "actor",
    }
)

_EMAIL = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# Candidates only (10 to 15 digits, optionally with the usual separators); libphonenumber decides.
_PHONE_CANDIDATE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{8,20}\d(?![\w])")
# CPF (11 digits) and CNPJ (14 characters, alphanumeric since 2026), with or without punctuation.
_TAX_ID_CANDIDATE = re.compile(
    r"(?<![\w])(?:\d{3}\.?\d{3}\.?\d{3}-?\d{2}|[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}/?[0-9A-Z]{4}-?\d{2})(?![\w])"
)


def _is_phone(candidate: str) -> bool:
    from hub.errors import InvalidRequestError
    from hub.phones import to_e164

    digits = re.sub(r"\D", "", candidate)
    if not 10 <= len(digits) <= 15:
        return False
    try:
        to_e164(candidate)
    except InvalidRequestError:
        return False
    return True


def holds_pii(value: Any) -> bool:
    """Does ``value`` (text or a number) hold an email, a phone number or a CPF/CNPJ?"""
    if isinstance(value, bool) or value is None:
        return False
    text = str(value)
    if _EMAIL.search(text):
        return True
    from hub.documents import is_valid_tax_id

    if any(is_valid_tax_id(m.group(0)) for m in _TAX_ID_CANDIDATE.finditer(text)):
        return True
    return any(_is_phone(m.group(0)) for m in _PHONE_CANDIDATE.finditer(text))


def is_pii(source: str, value: Any) -> bool:
    """Is the value at ``source`` (a dotted detail path) personal data?"""
    return source.rsplit(".", 1)[-1].lower() in PII_FIELDS or holds_pii(value)


def pseudonym(org_id: str, value: str) -> str:
    """An org-scoped stable id for a person, from which the sink cannot read them back."""
    return "anon_" + hashlib.sha256(f"analytics:v1:{org_id}:{value}".encode()).hexdigest()[:40]
