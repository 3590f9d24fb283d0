"""Evolution API v2 (WhatsApp) sandbox, mounted at ``/evolution``.

Implemented endpoints (auth header ``apikey`` must be the demo key):

* ``POST /message/sendText/{instance}``: ``{"number": "5511999999999", "text": "..."}`` -> 201.
  Numbers starting with ``5500`` (or not digits) are "not on WhatsApp" -> 400 ``exists: false``.
* ``GET /instance/connectionState/{instance}`` -> ``{"instance": {"instanceName", "state": "open"}}``.
* ``GET /`` -> the welcome document.

Not emulated: the optional ``delay`` is accepted but not waited for; no webhooks are sent.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud import demo
from localcloud.sandboxes.base import Sandbox, json_response, reason

NOT_ON_WHATSAPP_PREFIX = "5500"


class EvolutionSandbox(Sandbox):
    provider = "evolution"

    def __init__(
        self,
        api_key: str = demo.EVOLUTION_API_KEY,
        instances: tuple[str, ...] = (demo.EVOLUTION_INSTANCE,),
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.instances = {name: str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.evolution.local")) for name in instances}
        self.sent: list[dict[str, Any]] = []
        self.route("/", ["GET"], self.welcome)
        self.route("/message/sendText/<instance>", ["POST"], self.send_text)
        self.route("/instance/connectionState/<instance>", ["GET"], self.connection_state)

    # -- error shapes ------------------------------------------------------ #

    def error_response(self, status: int, message: Any = None) -> Response:
        if message is None:
            message = [reason(status)]
        elif not isinstance(message, list):
            message = [message]
        return json_response({"status": status, "error": reason(status), "response": {"message": message}}, status)

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.error_response(404, [f"Cannot {request.method} {subpath}"])

    def reset(self) -> None:
        with self.lock:
            self.sent.clear()

    # -- guards ------------------------------------------------------------ #

    def _guard(self, request: Request, instance: str | None) -> Response | None:
        if request.headers.get("apikey") != self.api_key:
            return json_response({"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}, 401)
        if instance is not None and instance not in self.instances:
            return self.error_response(404, [f'The "{instance}" instance does not exist'])
        return None

    # -- endpoints --------------------------------------------------------- #

    def welcome(self, request: Request) -> Response:
        return json_response(
            {
                "status": 200,
                "message": "Welcome to the Evolution API, it is working!",
                "version": "2.2.3",
                "clientName": "evolution_exchange",
                "manager": f"{request.host_url}manager",
                "documentation": "https://doc.evolution-api.com",
            }
        )

    def connection_state(self, request: Request, instance: str) -> Response:
        denied = self._guard(request, instance)
        if denied is not None:
            return denied
        return json_response({"instance": {"instanceName": instance, "state": "open"}})

    def send_text(self, request: Request, instance: str) -> Response:
        denied = self._guard(request, instance)
        if denied is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.error_response(400, ["instance is not of a type(s) object"])
        errors = validate_send_text(body)
        if errors:
            return self.error_response(400, errors)
        number: str = body["number"]
        if "@" in number:
            jid = number
        else:
            jid = f"{number}@s.whatsapp.net"
            if not number.isdigit() or number.startswith(NOT_ON_WHATSAPP_PREFIX):
                return self.error_response(400, [{"exists": False, "jid": jid, "number": number}])
        message = {
            "key": {"remoteJid": jid, "fromMe": True, "id": "BAE5" + secrets.token_hex(6).upper()},
            "pushName": "",
            "status": "PENDING",
            "message": {"conversation": body["text"]},
            "contextInfo": None,
            "messageType": "conversation",
            "messageTimestamp": int(time.time()),
            "instanceId": self.instances[instance],
            "source": "unknown",
        }
        with self.lock:
            self.sent.append({"instance": instance, "request": body, "response": message})
        return json_response(message, 201)


def validate_send_text(body: dict[str, Any]) -> list[str]:
    """Evolution validates with JSON schema; messages mimic its jsonschema output."""
    errors = []
    for key in ("number", "text"):
        if key not in body:
            errors.append(f'instance requires property "{key}"')
    if "number" in body and not isinstance(body["number"], str):
        errors.append("Invalid format")
    if "text" in body and not isinstance(body["text"], str):
        errors.append("text is not of a type(s) string")
    if "delay" in body and (not isinstance(body["delay"], int) or isinstance(body["delay"], bool)):
        errors.append("Enter a value in milliseconds")
    if "linkPreview" in body and not isinstance(body["linkPreview"], bool):
        errors.append("linkPreview is not of a type(s) boolean")
    mentioned = body.get("mentioned")
    if mentioned is not None and (
        not isinstance(mentioned, list)
        or not mentioned
        or not all(isinstance(m, str) and m[:1].isdigit() for m in mentioned)
    ):
        errors.append('"mentioned" must be an array of numeric strings')
    return errors
