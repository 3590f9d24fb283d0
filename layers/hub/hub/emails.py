"""Email addresses: syntax-checked and normalised by ``email-validator`` (no DNS lookups in
the request path; deliverability is the provider's job and comes back as bounces)."""

from __future__ import annotations

import email.utils

from email_validator import EmailNotValidError, validate_email

from hub.errors import InvalidRequestError


def normalise_email(raw: str, *, field: str = "email") -> str:
    """``Fulano@Exemplo.COM.br`` → ``Fulano@exemplo.com.br`` (domain lower-cased, IDNA
    checked), or InvalidRequestError naming the field (never echoing the value)."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except (EmailNotValidError, AttributeError):
        raise InvalidRequestError(f"{field} is not a valid email address", code="invalid_email") from None


def contact_key_email(address: str) -> str:
    """The key contacts and suppressions use: the whole address lower-cased (mailbox case is
    significant in theory, never in practice, and a bounce must match the next send)."""
    return address.lower()


def normalise_sender(raw: str, *, field: str = "from") -> str:
    """``Name <addr>`` or a bare address; the address part validated, the name kept."""
    name, address = email.utils.parseaddr(raw)
    if not address:
        raise InvalidRequestError(f"{field} is not a valid sender", code="invalid_email")
    valid = normalise_email(address, field=field)
    return email.utils.formataddr((name, valid)) if name else valid
