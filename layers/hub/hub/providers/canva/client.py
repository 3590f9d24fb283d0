"""Canva Connect adapter: brand templates and their dataset, autofill jobs, export jobs.

Every call goes to ``api_url("/v1/...")`` (the app's API base URL in a sandbox). Doc links
next to each call; the list is in README.md.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel

from hub.errors import HubError, InvalidRequestError, ProviderUnavailableError
from hub.providers.base.descriptor import OAuthSpec
from hub.providers.base.oauth import OAuthClient
from hub.providers.canva import OAUTH

ExportFormat = Literal["png", "jpg", "pdf"]
JobStatus = Literal["in_progress", "success", "failed"]
# Canva's error codes that mean "this user's plan cannot use brand templates / autofill"
# (https://www.canva.dev/docs/connect/error-responses/): surfaced as ``canva_plan_required``.
PLAN_CODES = frozenset({"permission_denied", "feature_not_available", "missing_scope"})
PLAN_OPERATIONS = frozenset({"brand_templates", "dataset", "autofill"})


class BrandTemplate(BaseModel):
    id: str
    title: str
    view_url: str | None = None


class DatasetField(BaseModel):
    name: str
    type: str  # text | image | chart


class AutofillJob(BaseModel):
    id: str
    status: JobStatus
    design_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class ExportJob(BaseModel):
    id: str
    status: JobStatus
    urls: list[str] = []
    error_code: str | None = None
    error_message: str | None = None


class CanvaClient(OAuthClient):
    provider: ClassVar[str] = "canva"
    oauth_spec: ClassVar[OAuthSpec] = OAUTH

    def health_check(self) -> None:
        # https://www.canva.dev/docs/connect/api-reference/users/users-me/ (no scope needed)
        self.request("GET", self.api_url("/v1/users/me"), operation="health")

    # The operation of the call in flight: a 403 on brand templates or autofill is a plan refusal.
    _operation: str | None = None

    def _call(self, method: str, path: str, *, operation: str, json: Any = None) -> dict[str, Any]:
        self._operation = operation
        try:
            response = self.request(method, self.api_url(path), json=json, operation=operation)
        finally:
            self._operation = None
        return self.json_object(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        """A 403 on brand templates or autofill is Canva saying the user's plan lacks them
        (Enterprise, or a trial; the requirement keeps changing): ``canva_plan_required``, an
        InvalidRequestError — not an authentication failure, so the org's integration stays
        enabled and the render takes the template path."""
        error = super().classify(response)
        if (
            error is not None
            and response.status_code == 403
            and self._operation in PLAN_OPERATIONS
            and (error.code in PLAN_CODES or error.code is None)
        ):
            return error.recast(
                InvalidRequestError,
                "canva refused: brand templates and autofill need a Canva plan that includes them "
                f"(Canva Enterprise or an approved trial); Canva said: {error.message}",
                code="canva_plan_required",
                details={"canva_code": error.code},
            )
        return error

    # ----- brand templates -------------------------------------------------------------
    def list_brand_templates(self, *, continuation: str | None = None) -> tuple[list[BrandTemplate], str | None]:
        # https://www.canva.dev/docs/connect/api-reference/brand-templates/list-brand-templates/
        path = "/v1/brand-templates" + (f"?continuation={continuation}" if continuation else "")
        body = self._call("GET", path, operation="brand_templates")
        items = [BrandTemplate.model_validate(item) for item in body.get("items", [])]
        return items, body.get("continuation")

    def brand_template_dataset(self, brand_template_id: str) -> list[DatasetField]:
        # https://www.canva.dev/docs/connect/api-reference/brand-templates/get-brand-template-dataset/
        body = self._call("GET", f"/v1/brand-templates/{brand_template_id}/dataset", operation="dataset")
        dataset = body.get("dataset") or {}
        return [DatasetField(name=name, type=str(spec.get("type"))) for name, spec in dataset.items()]

    # ----- autofill ----------------------------------------------------------------------
    def create_autofill(self, brand_template_id: str, title: str, data: dict[str, dict[str, Any]]) -> AutofillJob:
        # https://www.canva.dev/docs/connect/api-reference/autofills/create-design-autofill-job/
        body = self._call(
            "POST",
            "/v1/autofills",
            operation="autofill",
            json={"brand_template_id": brand_template_id, "title": title[:255], "data": data},
        )
        return self._autofill_job(body)

    def get_autofill(self, job_id: str) -> AutofillJob:
        # https://www.canva.dev/docs/connect/api-reference/autofills/get-design-autofill-job/
        return self._autofill_job(self._call("GET", f"/v1/autofills/{job_id}", operation="autofill_poll"))

    def _autofill_job(self, body: dict[str, Any]) -> AutofillJob:
        job = self._job(body)
        design = ((job.get("result") or {}).get("design")) or {}
        error = job.get("error") or {}
        return AutofillJob(
            id=str(job["id"]),
            status=job["status"],
            design_id=design.get("id"),
            error_code=error.get("code"),
            error_message=error.get("message"),
        )

    # ----- exports -----------------------------------------------------------------------
    def create_export(self, design_id: str, format_type: ExportFormat) -> ExportJob:
        # https://www.canva.dev/docs/connect/api-reference/exports/create-design-export-job/
        # Counted against the export throttles (DESCRIPTOR.limits, operation "export").
        body = self._call(
            "POST", "/v1/exports", operation="export", json={"design_id": design_id, "format": {"type": format_type}}
        )
        return self._export_job(body)

    def get_export(self, export_id: str) -> ExportJob:
        # https://www.canva.dev/docs/connect/api-reference/exports/get-design-export-job/ (urls valid 24 h)
        return self._export_job(self._call("GET", f"/v1/exports/{export_id}", operation="export_poll"))

    def _export_job(self, body: dict[str, Any]) -> ExportJob:
        job = self._job(body)
        error = job.get("error") or {}
        return ExportJob(
            id=str(job["id"]),
            status=job["status"],
            urls=[str(url) for url in job.get("urls") or []],
            error_code=error.get("code"),
            error_message=error.get("message"),
        )

    def download(self, url: str) -> bytes:
        """An exported file (a pre-signed URL of Canva's: no auth header)."""
        return self.request("GET", url, authenticate=False, operation="export_download").content

    def _job(self, body: dict[str, Any]) -> dict[str, Any]:
        job = body.get("job")
        if (
            not isinstance(job, dict)
            or "id" not in job
            or job.get("status") not in ("in_progress", "success", "failed")
        ):
            raise ProviderUnavailableError("canva answered a job without id or status", provider=self.provider)
        return job
