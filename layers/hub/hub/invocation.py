"""Helpers for functions invoked directly (boto3 ``lambda.invoke``) or by Step Functions.

Errors are raised, not returned: Lambda reports the exception's class name as
``errorType``, which callers and Step Functions ``Catch``/``Retry`` match on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hub.errors import InvalidRequestError

M = TypeVar("M", bound=BaseModel)


def parse_request(model: type[M], event: Any) -> M:
    """Validate an invocation payload, naming every wrong field (never echoing values)."""
    if not isinstance(event, Mapping):
        raise InvalidRequestError(f"payload must be a JSON object with the fields of {model.__name__}")
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:10]:
            location = ".".join(str(p) for p in err["loc"]) or "payload"
            problems.append(f"{location}: {err['msg']}")
        raise InvalidRequestError("invalid request: " + "; ".join(problems), code="validation_error") from None
