"""DesignRender, DesignRenderStatus and the steps of DesignRenderWorkflow.

The workflow (statemachines/design_render.py) is a loop around one Lambda step. The render's
state travels in the execution itself (no table): each step takes it and answers it back with
what to do next — ``wait`` (a Wait state of ``wait_seconds``, then the next step: Canva's jobs
are polled by Step Functions, nothing sleeps in a Lambda), ``template`` (the fallback) or
``done``. The Canva path:

    start ──► autofill job ──in_progress──► Wait ──► poll ... ──success──► export jobs (one per
    format) ──in_progress──► Wait ──► poll ... ──success──► copy every file to generated-content

Any Canva failure — not connected, the plan refused (``canva_plan_required``), over the
hub-side export quota or a 429, down, a job failed, polled too long — records the error and
answers ``template``: the step ``op: "template"`` invokes DesignTemplateRender (the org's
HTML/CSS template) with the same fields. The result always says which path produced it.
"""

from __future__ import annotations

import json
from typing import Any

from hub.aws import aws_client
from hub.config import get_settings
from hub.design.models import (
    TEMPLATE_FORMATS,
    DesignRenderRef,
    DesignRenderRequest,
    RenderAccepted,
    RenderedFile,
    RenderError,
    RenderResult,
    RenderState,
    render_id_for,
)
from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError
from hub.observability import logger
from hub.providers.canva.client import CanvaClient
from hub.storage import ObjectStorage

StepAnswer = dict[str, Any]
EXTENSIONS = {"png": "png", "jpg": "jpg", "pdf": "pdf"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "pdf": "application/pdf"}


# ----- seams (patched in tests) --------------------------------------------------------------


def canva_client(org_id: str) -> CanvaClient:
    """The org's Canva connection (AuthenticationError when the org never connected Canva)."""
    return CanvaClient.for_org(org_id)


def storage() -> ObjectStorage:
    return ObjectStorage()


def invoke_template_renderer(function_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """DesignTemplateRender, synchronously (RequestResponse). A function error comes back as a
    HubError of the class it names when it is one of ours."""
    response = aws_client("lambda").invoke(
        FunctionName=function_name, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
    )
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        error_type = body.get("errorType") if isinstance(body, dict) else None
        message = body.get("errorMessage") if isinstance(body, dict) else None
        cls = InvalidRequestError if error_type == "InvalidRequestError" else ProviderUnavailableError
        raise cls(f"DesignTemplateRender failed: {error_type}: {message}", code="template_render_failed")
    if not isinstance(body, dict):
        raise ProviderUnavailableError("DesignTemplateRender answered no object", code="template_render_failed")
    return body


def start_execution(machine: str, name: str, execution_input: dict[str, Any]) -> None:
    client = aws_client("stepfunctions")
    try:
        client.start_execution(stateMachineArn=machine, name=name, input=json.dumps(execution_input))
    except client.exceptions.ExecutionAlreadyExists:
        pass  # the same request again: the running (or finished) render answers


def describe_execution(execution_arn: str) -> dict[str, Any] | None:
    client = aws_client("stepfunctions")
    try:
        execution: dict[str, Any] = client.describe_execution(executionArn=execution_arn)
    except client.exceptions.ExecutionDoesNotExist:
        return None
    return execution


# ----- the operations services invoke ---------------------------------------------------------


def _execution_arn(render_id: str) -> str:
    machine = get_settings().require("design_render_state_machine_arn")
    return f"{machine.replace(':stateMachine:', ':execution:')}:{render_id}"


def start_render(request: DesignRenderRequest) -> RenderAccepted:
    """Validate and start the workflow (execution name = the render id: a repeated request never
    starts a second one). Answers at once."""
    settings = get_settings()
    machine = settings.require("design_render_state_machine_arn")
    settings.require("generated_content_bucket")
    render_id = render_id_for(request.org_id, request.idempotency_key)
    state = RenderState(org_id=request.org_id, render_id=render_id, request=request)
    start_execution(machine, render_id, {"state": state.model_dump(mode="json", exclude_none=True)})
    return RenderAccepted(render_id=render_id, status="rendering")


def render_status(ref: DesignRenderRef) -> RenderResult:
    """Where a render is; done renders get fresh presigned URLs of their files."""
    execution = describe_execution(_execution_arn(ref.render_id))
    started_for = json.loads(execution.get("input") or "{}").get("state", {}).get("org_id") if execution else None
    if execution is None or started_for != ref.org_id:  # another org's render: as if it did not exist
        raise InvalidRequestError(f"render_id: no render {ref.render_id!r}", code="not_found")
    status = execution["status"]
    if status == "RUNNING":
        return RenderResult(render_id=ref.render_id, status="rendering")
    if status != "SUCCEEDED":
        return RenderResult(
            render_id=ref.render_id,
            status="failed",
            errors=[
                RenderError(
                    path="template",
                    step="workflow",
                    error=str(execution.get("error") or status),
                    message=str(execution.get("cause") or "")[:300] or None,
                )
            ],
        )
    return result_of(RenderState.model_validate(json.loads(execution["output"])["state"]))


def result_of(state: RenderState) -> RenderResult:
    settings = get_settings()
    store = storage()
    files = [
        file.model_copy(
            update={"url": store.presigned_get_url(file.bucket, file.key, expires_in=settings.design_url_seconds)}
        )
        for file in state.files
    ]
    return RenderResult(
        render_id=state.render_id,
        status="done" if state.phase == "done" else "failed",
        path=state.path,
        files=files,
        fallback_reason=state.fallback_reason,
        errors=state.errors,
    )


# ----- the workflow's step ----------------------------------------------------------------------


def run_step(event: dict[str, Any]) -> StepAnswer:
    op = event.get("op")
    state = RenderState.model_validate(event["state"])
    if op == "advance":
        return advance(state)
    if op == "template":
        error = event.get("error")
        if isinstance(error, dict):  # the Advance task itself failed (caught by the machine)
            state.errors.append(
                RenderError(
                    path="canva", step=state.phase, error=str(error.get("Error")), message=_cause(error.get("Cause"))
                )
            )
            state.fallback_reason = state.fallback_reason or "canva_step_failed"
        return render_template(state)
    raise InvalidRequestError(f"op: unknown step {op!r}")


def _cause(cause: Any) -> str | None:
    if not cause:
        return None
    try:
        parsed = json.loads(cause)
        return str(parsed.get("errorMessage"))[:300] if isinstance(parsed, dict) else str(cause)[:300]
    except ValueError:
        return str(cause)[:300]


def _answer(state: RenderState, next_step: str, wait_seconds: int = 0) -> StepAnswer:
    return {
        "state": state.model_dump(mode="json", exclude_none=True),
        "next": next_step,
        "wait_seconds": wait_seconds,
        "error": None,  # the machine's Catch of a failed step fills it
    }


def _wait(state: RenderState) -> StepAnswer:
    settings = get_settings()
    state.polls += 1
    if state.polls > settings.design_max_polls:
        return _fall_back(
            state,
            "canva_timeout",
            ProviderUnavailableError(f"canva job still in progress after {settings.design_max_polls} polls"),
        )
    return _answer(state, "wait", settings.design_poll_seconds)


def _fall_back(state: RenderState, reason: str, error: HubError | None = None) -> StepAnswer:
    if error is not None:
        state.errors.append(
            RenderError(
                path="canva",
                step=state.phase,
                error=type(error).__name__,
                code=error.code,
                message=error.message[:300],
            )
        )
    state.fallback_reason = reason
    state.phase = "template"
    logger.info("design render falls back to the template path", extra={"render_id": state.render_id, "reason": reason})
    return _answer(state, "template")


def _reason(error: HubError) -> str:
    if error.code == "canva_plan_required":
        return "canva_plan_required"
    names = {
        "AuthenticationError": "canva_not_connected" if error.http_status is None else "canva_unauthorized",
        "RateLimitedError": "canva_over_quota",
        "ProviderUnavailableError": "canva_unavailable",
    }
    return names.get(type(error).__name__, "canva_refused")


def advance(state: RenderState) -> StepAnswer:
    request = state.request
    if request.brand_template_id is None:
        return _fall_back(state, "no_brand_template")
    try:
        client = canva_client(state.org_id)
        if state.phase == "start":
            job = client.create_autofill(
                request.brand_template_id, request.title or request.brand_template_id, _data(request)
            )
            state.autofill_job = job.id
            state.phase = "autofill_poll"
            return _after_autofill(state, job.status, job.design_id, job.error_code, job.error_message)
        if state.phase == "autofill_poll":
            assert state.autofill_job is not None
            job = client.get_autofill(state.autofill_job)
            return _after_autofill(state, job.status, job.design_id, job.error_code, job.error_message)
        if state.phase == "export":
            return _start_exports(state, client)
        if state.phase == "export_poll":
            return _poll_exports(state, client)
    except HubError as exc:
        return _fall_back(state, _reason(exc), exc)
    raise InvalidRequestError(f"state.phase: {state.phase!r} is not a Canva step")


def _data(request: DesignRenderRequest) -> dict[str, dict[str, Any]]:
    # https://www.canva.dev/docs/connect/api-reference/autofills/create-design-autofill-job/ (text fields)
    return {name: {"type": "text", "text": text} for name, text in request.fields.items()}


def _after_autofill(
    state: RenderState, status: str, design_id: str | None, code: str | None, message: str | None
) -> StepAnswer:
    if status == "in_progress":
        return _wait(state)
    if status == "failed" or design_id is None:
        error = InvalidRequestError(f"canva autofill failed: {message or 'no design'}", code=code, provider="canva")
        return _fall_back(state, "canva_autofill_failed", error)
    state.design_id = design_id
    state.phase = "export"
    state.polls = 0
    return _answer(state, "advance")


def _start_exports(state: RenderState, client: CanvaClient) -> StepAnswer:
    assert state.design_id is not None
    for fmt in state.request.formats:
        if fmt not in state.exports:
            # A retried step never exports a format twice: each job id is kept as it is made.
            state.exports[fmt] = client.create_export(state.design_id, fmt).id
    state.phase = "export_poll"
    return _wait(state)


def _poll_exports(state: RenderState, client: CanvaClient) -> StepAnswer:
    done = {file.format for file in state.files}
    pending = False
    for fmt, export_id in state.exports.items():
        if fmt in done:
            continue
        job = client.get_export(export_id)
        if job.status == "in_progress":
            pending = True
            continue
        if job.status == "failed" or not job.urls:
            error = InvalidRequestError(
                f"canva export ({fmt}) failed: {job.error_message or 'no file'}", code=job.error_code, provider="canva"
            )
            return _fall_back(state, "canva_export_failed", error)
        # Export URLs live 24 hours: copy every file to generated-content at once.
        state.files.extend(_copy_files(state, client, fmt, job.urls))
    if pending:
        return _wait(state)
    state.phase = "done"
    state.path = "canva"
    return _answer(state, "done")


def _copy_files(state: RenderState, client: CanvaClient, fmt: str, urls: list[str]) -> list[RenderedFile]:
    bucket = get_settings().require("generated_content_bucket")
    store = storage()
    files = []
    for index, url in enumerate(urls, start=1):
        data = client.download(url)
        # A multi-page png/jpg export is one file per page; a pdf is one file.
        suffix = f"-{index}" if len(urls) > 1 else ""
        key = f"{state.org_id}/designs/{state.render_id}/canva{suffix}.{EXTENSIONS[fmt]}"
        store.put_bytes(bucket, key, data, content_type=CONTENT_TYPES[fmt])
        files.append(
            RenderedFile(format=fmt, bucket=bucket, key=key, bytes=len(data), pages=1 if fmt != "pdf" else None)
        )
    return files


def render_template(state: RenderState) -> StepAnswer:
    """The fallback: DesignTemplateRender renders the org's HTML/CSS template with the same fields."""
    request = state.request
    state.path = "template"
    state.files = []
    if request.template is None:
        state.errors.append(
            RenderError(
                path="template",
                step="template",
                error="InvalidRequestError",
                code="no_template",
                message="Canva could not render and the request names no HTML/CSS template",
            )
        )
        state.phase = "failed"
        return _answer(state, "done")
    formats = [fmt for fmt in request.formats if fmt in TEMPLATE_FORMATS] or ["png", "pdf"]
    payload = {
        "org_id": state.org_id,
        "render_id": state.render_id,
        "template": request.template,
        "fields": request.fields,
        "formats": formats,
    }
    try:
        function = get_settings().require("design_template_render_function")
        answer = invoke_template_renderer(function, payload)
        state.files = [RenderedFile.model_validate(file) for file in answer.get("files", [])]
    except (HubError, ValueError) as exc:
        error = exc if isinstance(exc, HubError) else ProviderUnavailableError(str(exc)[:300])
        state.errors.append(
            RenderError(
                path="template",
                step="template",
                error=type(error).__name__,
                code=error.code,
                message=error.message[:300],
            )
        )
        state.phase = "failed"
        return _answer(state, "done")
    state.phase = "done"
    return _answer(state, "done")
