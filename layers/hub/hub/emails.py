"""Email addresses: syntax-checked and normalised by ``email-validator`` (no DNS lookups in
the request path; deliverability is the provider's job and comes back as bounces). And the
rules that keep every header of an outgoing email one line and every custom header on the
allowed list (see "header safety" below)."""

from __future__ import annotations

import email.utils
import re

from hub.errors import InvalidRequestError

# The longest address a request may carry: RFC 3696 errata's 320 (64 local + @ + 255 domain).
MAX_EMAIL_INPUT = 320


def normalise_email(raw: str, *, field: str = "email") -> str:
    """``Fulano@Exemplo.COM.br`` → ``Fulano@exemplo.com.br`` (domain lower-cased, IDNA
    checked), or InvalidRequestError naming the field (never echoing the value)."""
    # Imported on first use (cold start): most functions that import this module never see an address.
    from email_validator import EmailNotValidError, validate_email

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
    if one_line_problem(raw) is not None:
        raise InvalidRequestError(f"{field} must be one line without control characters", code="invalid_email")
    name, address = email.utils.parseaddr(raw)
    if not address:
        raise InvalidRequestError(f"{field} is not a valid sender", code="invalid_email")
    valid = normalise_email(address, field=field)
    return email.utils.formataddr((name, valid)) if name else valid


# ----- header safety ---------------------------------------------------------------------------
#
# Every string that becomes part of an email's header section (addresses, display names, the
# subject, custom header names and values, tags, attachment filenames) must be one line: a
# CR/LF would let the caller add headers of their own (``Bcc:`` past consent and suppression).
# Resend forwards ``headers`` verbatim; SES refuses some but not all of it. One set of rules,
# used by the request models (so the error names the caller's field) and by
# ``hub.providers.outbound.OutboundEmail`` (so every adapter and every internal sender is covered).

# C0 and C1 controls, DEL, and the Unicode line/paragraph separators.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# RFC 5322 §2.1.1: a header line is at most 998 characters.
MAX_HEADER_LENGTH = 998
# The custom headers a caller may set, lower-case -> canonical spelling. Resend documents
# X-Entity-Ref-ID and List-Unsubscribe (https://resend.com/docs/dashboard/emails/custom-headers),
# List-Unsubscribe-Post for one-click unsubscribe
# (https://resend.com/docs/dashboard/emails/add-unsubscribe-to-transactional-emails, RFC 8058)
# and In-Reply-To to thread a reply (https://resend.com/docs/dashboard/receiving/reply-to-emails),
# with References its RFC 5322 §3.6.4 companion. Everything else — From, To, Cc, Bcc, Reply-To,
# Subject, Content-Type … — is set by the hub from the request's own fields, or not at all.
ALLOWED_HEADERS: dict[str, str] = {
    name.lower(): name
    for name in ("List-Unsubscribe", "List-Unsubscribe-Post", "X-Entity-Ref-ID", "In-Reply-To", "References")
}
MAX_CUSTOM_HEADERS = len(ALLOWED_HEADERS)
# Headers the hub (or the provider) writes itself from the request's fields: refused with a
# pointer to the field to use instead.
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "From",
        "Sender",
        "To",
        "Cc",
        "Bcc",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "Return-Path",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
    )
)
# Tag names and values, as both Resend (https://resend.com/docs/api-reference/emails/send-email,
# ``tags``) and SES (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html)
# accept them.
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def one_line_problem(value: str, *, max_length: int = MAX_HEADER_LENGTH) -> str | None:
    """Why ``value`` cannot go in an email header, or None."""
    if CONTROL_CHARACTERS.search(value):
        return "must not contain line breaks or other control characters"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    return None


def header_problem(name: str, value: str) -> tuple[str, str] | None:
    """``(code, message)`` when a custom header may not be sent, else None. Names the header
    (the caller's own key, cut short), never its value."""
    shown = repr(name[:40])
    if one_line_problem(name, max_length=76) is not None:
        return "invalid_header", f"header name {shown} is malformed"
    if name.lower() in RESERVED_HEADERS:
        return "reserved_header", f"header {shown} is set by the hub from the request's own fields"
    if name.lower() not in ALLOWED_HEADERS:
        return "header_not_allowed", f"header {shown} is not allowed (allowed: {', '.join(ALLOWED_HEADERS.values())})"
    problem = one_line_problem(value)
    return ("invalid_header", f"header {shown} {problem}") if problem else None


def headers_problem(headers: dict[str, str]) -> tuple[str, str] | None:
    seen: set[str] = set()
    for name, value in headers.items():
        problem = header_problem(name, value)
        if problem:
            return problem
        if name.lower() in seen:
            return "invalid_header", f"header {name[:40]!r} is given twice"
        seen.add(name.lower())
    return None


def tags_problem(tags: dict[str, str]) -> str | None:
    for name, value in tags.items():
        if not TAG_PATTERN.match(name) or not TAG_PATTERN.match(value):
            return f"tag {name[:40]!r}: names and values are 1-256 ASCII letters, digits, _ or -"
    return None
