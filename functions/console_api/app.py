"""ConsoleApi — the operator console (docs/console.md): the page at GET /console, its files at
/console/static/{file}, and the JSON API under /console/api/ (one layer call per route, errors
and auth in hub.console.web). On AWS a Cognito authorizer guards /console/api/* (but config and
session); locally (make dev) a one-time token opens a session."""

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from hub.console import actions, auth, dlq, replay, views, web
from hub.errors import InvalidRequestError
from hub.observability import lambda_handler

STATIC = Path(__file__).parent / "static"

app = APIGatewayRestResolver()
web.register(app)


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _body() -> dict[str, Any]:
    body = app.current_event.json_body if app.current_event.body else {}
    if not isinstance(body, dict):
        raise InvalidRequestError("body: must be a JSON object", code="invalid_request")
    return body


@app.get("/console")
def page() -> Response[str]:
    return web.static_file(STATIC, "index.html")


@app.get("/console/static/<name>")
def static(name: str) -> Response[str]:
    return web.static_file(STATIC, name)


@app.get("/console/api/config")
def config() -> dict[str, Any]:
    return auth.config(app.current_event.raw_event)


@app.post("/console/api/session")
def login() -> dict[str, Any]:
    return auth.open_session(_body()).model_dump(mode="json")


@app.delete("/console/api/session")
def logout() -> dict[str, Any]:
    auth.close_session(app.current_event.headers)
    return {"operator": web.operator(app)}


@app.get("/console/api/me")
def me() -> dict[str, Any]:
    return {"operator": web.operator(app)}


@app.get("/console/api/orgs")
def orgs() -> dict[str, Any]:
    return views.orgs()


@app.get("/console/api/health")
def health() -> dict[str, Any]:
    return views.health()


@app.get("/console/api/health/history")
def health_history() -> dict[str, Any]:
    query = _query()
    return views.health_history(query.get("org_id"), query.get("provider"))


@app.get("/console/api/events")
def events() -> dict[str, Any]:
    return views.events(_query())


@app.get("/console/api/events/<record_id>")
def event(record_id: str) -> dict[str, Any]:
    return views.event_detail(record_id)


@app.post("/console/api/events/<record_id>/retry")
def retry(record_id: str) -> dict[str, Any]:
    return replay.retry_event(record_id, operator=web.operator(app))


@app.post("/console/api/replays")
def replay_create() -> tuple[dict[str, Any], int]:
    return replay.create_job(_body(), operator=web.operator(app)), 202


@app.get("/console/api/replays")
def replay_list() -> dict[str, Any]:
    return replay.list_jobs()


@app.get("/console/api/replays/<job_id>")
def replay_get(job_id: str) -> dict[str, Any]:
    return replay.get_job(job_id)


@app.get("/console/api/dlqs")
def dlq_list() -> dict[str, Any]:
    return dlq.queues()


@app.get("/console/api/dlqs/<name>/messages")
def dlq_messages(name: str) -> dict[str, Any]:
    return dlq.messages(name, _query().get("limit"))


@app.post("/console/api/dlqs/<name>/redrive")
def dlq_redrive(name: str) -> dict[str, Any]:
    return dlq.redrive(name, _body(), operator=web.operator(app))


@app.get("/console/api/integrations")
def integrations() -> dict[str, Any]:
    return views.integrations(_query().get("org_id"))


@app.post("/console/api/integrations/<org_id>/<provider>/<action>")
def integration_action(org_id: str, provider: str, action: str) -> dict[str, Any]:
    return actions.integration_action(org_id, provider, action, _body(), operator=web.operator(app))


@app.get("/console/api/spend")
def spend() -> dict[str, Any]:
    query = _query()
    return views.spend(query.get("org_id"), query.get("month"))


@app.get("/console/api/audit")
def audit() -> dict[str, Any]:
    return views.audit_page(_query())


@app.get("/console/api/issues")
def issues() -> dict[str, Any]:
    return views.issues(_query())


@app.post("/console/api/issues/<org_id>/<provider>/<error_class>")
def issue_status(org_id: str, provider: str, error_class: str) -> dict[str, Any]:
    return views.set_issue(org_id, provider, error_class, _body(), operator=web.operator(app))


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
