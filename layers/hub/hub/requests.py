"""Field types every invocation payload is built from, so input is validated the same way
everywhere and before any side effect:

* ``OrgId``: matched exactly as sent. ``" demo "`` or ``"demo\\n"`` is refused, never
  normalised to ``demo`` (a model's ``str_strip_whitespace`` does not reach it).
* ``Centavos``: money is a strict integer of centavos, > 0. ``true``, ``"100"`` and ``100.0``
  are refused, not coerced; a per-org ceiling is checked by the domain (payments settings).
* ``IdempotencyKey``: printable ASCII, bounded.
* ``OperationRequest``: the base model — unknown fields refused and every string bounded
  (``str_max_length``; a field may set its own, larger or smaller, ``max_length``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from hub.credentials import ORG_ID_PATTERN

# The largest amount any field can carry (R$ 10 bilhões): far above any org's ceiling, and
# far below what Decimal, DynamoDB numbers and the providers' own fields hold exactly.
MAX_CENTAVOS = 1_000_000_000_000
# Every string of a request is at most this long unless its field says otherwise.
DEFAULT_MAX_STRING = 4_096
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"


def _exact_org_id(value: Any) -> Any:
    if isinstance(value, str) and not ORG_ID_PATTERN.fullmatch(value):
        raise ValueError(
            "org_id must be 1-63 characters of lowercase letters, digits, '-' or '_', exactly as registered"
        )
    return value


OrgId = Annotated[str, BeforeValidator(_exact_org_id), Strict()]
Centavos = Annotated[int, Strict(), Field(gt=0, le=MAX_CENTAVOS, description="integer centavos (R$ 1,00 = 100)")]
IdempotencyKey = Annotated[
    str, Strict(), Field(pattern=IDEMPOTENCY_KEY_PATTERN, description="printable ASCII, 1-255 characters")
]


class OperationRequest(BaseModel):
    """Base of every directly invoked operation's payload."""

    model_config = ConfigDict(extra="forbid", str_max_length=DEFAULT_MAX_STRING)
