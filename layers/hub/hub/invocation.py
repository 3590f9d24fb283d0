"""Helpers for functions invoked directly (boto3 ``lambda.invoke``) or by Step Functions.

Errors are raised, not returned: Lambda reports the exception's class name as
``errorType``, which callers and Step Functions ``Catch``/``Retry`` match on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

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


class IdempotentRequest(Protocol):
    org_id: str
    idempotency_key: str | None


def operation_handler(
    operation: str,
    model: type[M],
    run: Callable[[M], BaseModel],
    *,
    on_invalid: Callable[[Any, InvalidRequestError], None] | None = None,
) -> Callable[[Any, Any], dict[str, Any]]:
    """The handler of a directly invoked operation: validate the payload against ``model``,
    run ``run`` at most once per ``idempotency_key`` (when the caller sends one), return its
    result as JSON. Errors propagate with their taxonomy class name as ``errorType``.

    ``"resend": true`` beside the payload is the caller's explicit word that an earlier attempt
    with this key, whose outcome is unknown (``OutcomeUnknownError``), did not happen: it is
    sent again instead of being resolved first (docs/errors.md).

    ``on_invalid(payload, error)`` runs when the payload fails validation (TransferCreate audits
    those refusals too), before the error propagates."""
    from hub import eventlog, idempotency, orgs
    from hub.observability import lambda_handler

    @lambda_handler
    def handler(event: Any, context: Any) -> dict[str, Any]:
        if isinstance(event, Mapping):
            # The org first, exactly as sent, before any parse or side effect: well formed
            # (invalid_org_id) and registered (unknown_org); OrgCreate registers it.
            if operation == "org.create":
                orgs.check_org_id(event.get("org_id"))
            else:
                orgs.require_org(event.get("org_id"))
        # The event log's outbound record (hub.eventlog): the provider calls this run makes.
        with eventlog.collecting_calls() as calls:
            try:
                result = run_keyed(event, context)
            except BaseException as exc:
                _record(operation, event, None, exc, calls)
                raise
            if calls:  # an answer replayed from the idempotency store called no provider
                _record(operation, event, result, None, calls)
            return result

    def run_keyed(event: Any, context: Any) -> dict[str, Any]:
        resend = False
        if isinstance(event, Mapping) and "resend" in event:
            resend_value = event["resend"]
            if not isinstance(resend_value, bool):
                raise InvalidRequestError("invalid request: resend: must be true or false", code="validation_error")
            resend = resend_value
            event = {k: v for k, v in event.items() if k != "resend"}
        try:
            request = parse_request(model, event)
        except InvalidRequestError as exc:
            if on_invalid is not None:
                on_invalid(event, exc)
            raise
        keyed: IdempotentRequest = request  # type: ignore[assignment]
        idempotency.register_lambda_context(context)
        return idempotency.run_once(
            operation,
            keyed.org_id,
            getattr(keyed, "idempotency_key", None),  # reads carry none
            lambda: run(request).model_dump(mode="json", exclude_none=True),
            payload=request.model_dump(mode="json", exclude={"idempotency_key"}),
            resend=resend,
        )

    return handler


def _record(
    operation: str,
    payload: Any,
    result: Mapping[str, Any] | None,
    error: BaseException | None,
    calls: list[Any],
) -> None:
    """One outbound record: the payload and result masked by hub.eventlog; the provider the last
    call went to (or the error's), status ``unknown`` for an OutcomeUnknownError."""
    from hub import eventlog
    from hub.errors import HubError

    if not isinstance(payload, Mapping) or not isinstance(payload.get("org_id"), str):
        return  # refused before it named a registered org: nobody's record
    provider = error.provider if isinstance(error, HubError) and error.provider else None
    eventlog.record_outbound(
        operation,
        payload["org_id"],
        status=eventlog.outbound_status(error),
        provider=provider or (calls[-1].provider if calls else None),
        request={k: v for k, v in payload.items() if k != "resend"},
        response=result,
        error=error,
        calls=calls,
    )
