"""Evolution API v2 (WhatsApp) sandbox, mounted at ``/evolution``.

Implemented endpoints (auth header ``apikey`` must be the demo key):

* ``POST /chat/findMessages/{instance}``: the instance's messages, newest first (paged).
* ``POST /message/sendText/{instance}``: ``{"number": "5511999999999", "text": "..."}`` -> 201.
  Numbers starting with ``5500`` (or not digits) are "not on WhatsApp" -> 400 ``exists: false``.
* ``POST /message/sendMedia/{instance}``: ``{"number", "mediatype": image|video|document|audio,
  "media": <url>, "mimetype"?, "caption"?, "fileName"?}`` -> 201 with an ``<type>Message``.
* ``POST /message/sendWhatsAppAudio/{instance}``: ``{"number", "audio": <url>}`` -> 201 with a
  voice note (``audioMessage``, ``ptt: true``).
* ``POST /message/sendTemplate/{instance}``: ``{"number", "name", "language", "components"?}``.
  Only instances in ``template_instances`` (official WhatsApp Business API integration; the demo
  instance by default) implement it: 201 for the demo templates of the WhatsApp Cloud sandbox
  (``DEMO_TEMPLATES``); for an unknown template or a wrong parameter count it relays Meta's
  error object (132001/132000) with 201, as Evolution's official-API channel does. Other
  instances (:data:`BAILEYS_INSTANCE`) answer 500 "Method not available in the Baileys service".
* ``GET /instance/connectionState/{instance}`` -> ``{"instance": {"instanceName", "state": "open"}}``.
* ``POST /webhook/set/{instance}`` ``{"webhook": {"enabled", "url", "headers"?, "byEvents"?,
  "base64"?, "events"?}}`` -> 201 with the stored record (``id``, ``url``, ``headers``,
  ``enabled``, ``events``, ``webhookByEvents``, ``webhookBase64``, ``createdAt``, ``updatedAt``,
  ``instanceId``), one per instance (a second call replaces it), as evolution-api's
  WebhookController.set upserts it; validated like its webhookSchema (enabled and url required,
  events from EventController.events, an empty list = all events, ``enabled: false`` = none),
  and stricter on one point: the url must be http(s) (Evolution only ever calls those).
  ``GET /webhook/find/{instance}`` -> the record, or ``null``.
* :meth:`EvolutionSandbox.webhook_delivery` builds the POST Evolution would send to the
  registered webhook (its url, the registered custom ``headers``, the ``{event, instance, data,
  destination, date_time, sender, server_url, apikey}`` body): tests post it to the hub.
* ``GET /`` -> the welcome document.

Not emulated: the optional ``delay`` is accepted but not waited for; media are not fetched;
base64 media; webhooks are never sent by the sandbox itself (``webhook_delivery`` builds them);
``jwt_key`` headers.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason
from localcloud.sandboxes.whatsapp_cloud import meta_error_object, template_error, wamid

NOT_ON_WHATSAPP_PREFIX = "5500"
# A second demo instance on the Baileys integration (no templates).
BAILEYS_INSTANCE = "somos-baileys"
MEDIA_TYPES = ("image", "video", "document", "audio")


# EventController.events (evolution-api src/api/integrations/event/event.controller.ts).
WEBHOOK_EVENTS = (
    "APPLICATION_STARTUP",
    "QRCODE_UPDATED",
    "MESSAGES_SET",
    "MESSAGES_UPSERT",
    "MESSAGES_EDITED",
    "MESSAGES_UPDATE",
    "MESSAGES_DELETE",
    "SEND_MESSAGE",
    "SEND_MESSAGE_UPDATE",
    "CONTACTS_SET",
    "CONTACTS_UPSERT",
    "CONTACTS_UPDATE",
    "PRESENCE_UPDATE",
    "CHATS_SET",
    "CHATS_UPSERT",
    "CHATS_UPDATE",
    "CHATS_DELETE",
    "GROUPS_UPSERT",
    "GROUP_UPDATE",
    "GROUP_PARTICIPANTS_UPDATE",
    "CONNECTION_UPDATE",
    "LABELS_EDIT",
    "LABELS_ASSOCIATION",
    "CALL",
    "TYPEBOT_START",
    "TYPEBOT_CHANGE_STATUS",
    "REMOVE_INSTANCE",
    "LOGOUT_INSTANCE",
    "INSTANCE_CREATE",
    "INSTANCE_DELETE",
    "STATUS_INSTANCE",
)
_HTTP_URL = re.compile(r"^https?://[^\s/]+")

DEMO_WEBHOOK_TOKEN = "demo-evolution-webhook-token"
DEMO_INSTANCE = "somos-principal"
DEMO_API_KEY = "demo-evolution-api-key"


class EvolutionSandbox(Sandbox):
    provider = "evolution"

    def __init__(
        self,
        api_key: str = DEMO_API_KEY,
        instances: tuple[str, ...] = (DEMO_INSTANCE, BAILEYS_INSTANCE),
        template_instances: tuple[str, ...] = (DEMO_INSTANCE,),
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.instances = {name: str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.evolution.local")) for name in instances}
        self.template_instances = set(template_instances)
        self.sent: list[dict[str, Any]] = []
        # instance -> its webhook record (WebhookController.set: one per instance).
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.route("/", ["GET"], self.welcome)
        self.route("/webhook/set/<instance>", ["POST"], self.set_webhook)
        self.route("/webhook/find/<instance>", ["GET"], self.find_webhook)
        self.route("/message/sendText/<instance>", ["POST"], self.send_text)
        self.route("/message/sendMedia/<instance>", ["POST"], self.send_media)
        self.route("/message/sendWhatsAppAudio/<instance>", ["POST"], self.send_audio)
        self.route("/message/sendTemplate/<instance>", ["POST"], self.send_template)
        self.route("/instance/connectionState/<instance>", ["GET"], self.connection_state)
        self.route("/chat/findMessages/<instance>", ["POST"], self.find_messages)

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
            self.webhooks.clear()

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

    def _body(self, request: Request, instance: str, validate: Any) -> tuple[dict[str, Any] | None, Response | None]:
        denied = self._guard(request, instance)
        if denied is not None:
            return None, denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None, self.error_response(400, ["instance is not of a type(s) object"])
        errors = validate(body)
        if errors:
            return None, self.error_response(400, errors)
        return body, None

    def _jid(self, number: str) -> tuple[str, Response | None]:
        if "@" in number:
            return number, None
        jid = f"{number}@s.whatsapp.net"
        if not number.isdigit() or number.startswith(NOT_ON_WHATSAPP_PREFIX):
            return jid, self.error_response(400, [{"exists": False, "jid": jid, "number": number}])
        return jid, None

    def _stored(
        self,
        instance: str,
        body: dict[str, Any],
        jid: str,
        message: dict[str, Any],
        message_type: str,
        message_id: str | None = None,
    ) -> Response:
        stored = {
            "key": {"remoteJid": jid, "fromMe": True, "id": message_id or "BAE5" + secrets.token_hex(6).upper()},
            "pushName": "",
            "status": "PENDING",
            "message": message,
            "contextInfo": None,
            "messageType": message_type,
            "messageTimestamp": int(time.time()),
            "instanceId": self.instances[instance],
            "source": "unknown",
        }
        with self.lock:
            self.sent.append({"instance": instance, "request": body, "response": stored})
        return json_response(stored, 201)

    def _send(
        self,
        request: Request,
        instance: str,
        validate: Callable[[dict[str, Any]], list[str]],
        message_of: Callable[[dict[str, Any]], tuple[str, Any]],
    ) -> Response:
        """One send endpoint: validate the body and the number, then store the message that
        ``message_of`` builds as ``(messageType, content)``."""
        body, failed = self._body(request, instance, validate)
        if body is None:
            assert failed is not None
            return failed
        jid, failed = self._jid(body["number"])
        if failed is not None:
            return failed
        message_type, content = message_of(body)
        return self._stored(instance, body, jid, {message_type: content}, message_type)

    def send_text(self, request: Request, instance: str) -> Response:
        return self._send(request, instance, validate_send_text, lambda body: ("conversation", body["text"]))

    def send_media(self, request: Request, instance: str) -> Response:
        return self._send(request, instance, validate_send_media, _media_message)

    def send_audio(self, request: Request, instance: str) -> Response:
        return self._send(request, instance, validate_send_audio, _audio_message)

    # -- webhook ----------------------------------------------------------- #

    def set_webhook(self, request: Request, instance: str) -> Response:
        body, failed = self._body(request, instance, validate_webhook)
        if body is None:
            assert failed is not None
            return failed
        webhook = body["webhook"]
        events = list(webhook.get("events") or [])
        if not webhook["enabled"]:
            events = []
        elif not events:
            events = list(WEBHOOK_EVENTS)
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        with self.lock:
            previous = self.webhooks.get(instance)
            record = {
                "id": previous["id"] if previous else "cm" + secrets.token_hex(11),
                "url": webhook["url"],
                "headers": webhook.get("headers"),
                "enabled": webhook["enabled"],
                "events": events,
                "webhookByEvents": bool(webhook.get("byEvents", False)),
                "webhookBase64": bool(webhook.get("base64", False)),
                "createdAt": previous["createdAt"] if previous else now,
                "updatedAt": now,
                "instanceId": self.instances[instance],
            }
            self.webhooks[instance] = record
        return json_response(record, 201)

    def find_webhook(self, request: Request, instance: str) -> Response:
        denied = self._guard(request, instance)
        if denied is not None:
            return denied
        with self.lock:
            return json_response(self.webhooks.get(instance))

    def webhook_delivery(
        self, instance: str, event: str, data: Any, *, server_url: str = "http://127.0.0.1:4010/evolution"
    ) -> tuple[str, dict[str, str], bytes] | None:
        """The POST Evolution sends for ``event`` (``MESSAGES_UPSERT`` …) to the instance's
        registered webhook: ``(url, headers, body)`` with the registered custom headers, or None
        when none is registered, it is disabled or it does not take the event
        (WebhookController.emit: ``byEvents`` appends the event's kebab-case name to the url)."""
        with self.lock:
            record = dict(self.webhooks.get(instance) or {})
        upper = event.replace(".", "_").replace("-", "_").upper()
        if not record or not record["enabled"] or upper not in record["events"]:
            return None
        url = record["url"]
        if record["webhookByEvents"]:
            url = f"{url}/{upper.replace('_', '-').lower()}"
        body = {
            "event": upper.lower().replace("_", "."),
            "instance": instance,
            "data": data,
            "destination": record["url"],
            "date_time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "sender": "5511999990000@s.whatsapp.net",
            "server_url": server_url,
            "apikey": self.api_key,
        }
        headers = {"Content-Type": "application/json", **{str(k): str(v) for k, v in (record["headers"] or {}).items()}}
        return url, headers, json.dumps(body).encode("utf-8")

    def find_messages(self, request: Request, instance: str) -> Response:
        """``{"where": {"key": {"remoteJid"?, "fromMe"?, "id"?}}, "page"?, "offset"?}`` → the
        instance's stored messages, newest first; ``offset`` is the page size (50 by default), as
        in evolution-api's ``fetchMessages``."""
        denied = self._guard(request, instance)
        if denied is not None:
            return denied
        body = request.get_json(silent=True)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return self.error_response(400, ["instance is not of a type(s) object"])
        where = body.get("where") or {}
        key_filter = where.get("key") if isinstance(where, dict) else None
        page, size = body.get("page") or 1, body.get("offset") or 50
        if not isinstance(key_filter, dict | None) or not isinstance(page, int) or not isinstance(size, int):
            return self.error_response(400, ["where.key must be an object; page and offset numbers"])
        with self.lock:
            # Newest first; within one second (the timestamp's resolution), the later send first.
            stored = [entry["response"] for entry in reversed(self.sent) if entry["instance"] == instance]
        matching = [
            message
            for message in stored
            if all(message["key"].get(field) == value for field, value in (key_filter or {}).items())
        ]
        matching.sort(key=lambda message: message["messageTimestamp"], reverse=True)
        page, size = max(1, page), max(1, size)
        records = matching[(page - 1) * size : page * size]
        pages = -(-len(matching) // size)
        return json_response(
            {"messages": {"total": len(matching), "pages": pages, "currentPage": page, "records": records}}
        )

    def send_template(self, request: Request, instance: str) -> Response:
        body, failed = self._body(request, instance, validate_send_template)
        if body is None:
            assert failed is not None
            return failed
        if instance not in self.template_instances:
            return json_response(
                {
                    "status": 500,
                    "error": "Internal Server Error",
                    "response": {"message": "Method not available in the Baileys service"},
                },
                500,
            )
        jid, failed = self._jid(body["number"])
        if failed is not None:
            return failed
        failure = template_error(
            {"name": body["name"], "language": body["language"], "components": body.get("components") or []}
        )
        if failure is not None:
            # The official-API channel returns Meta's error object as its (201) answer.
            return json_response(meta_error_object(*failure), 201)
        number = jid.split("@", 1)[0]
        message = {"conversation": f"\u25b6\ufe0f{body['name']}\u25c0\ufe0f"}
        return self._stored(instance, body, jid, message, "conversation", message_id=wamid(number))


def _media_message(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    content: dict[str, Any] = {"url": body["media"], "mimetype": body.get("mimetype") or "application/octet-stream"}
    if body.get("caption"):
        content["caption"] = body["caption"]
    if body["mediatype"] == "document":
        content["fileName"] = body.get("fileName") or "file"
    return f"{body['mediatype']}Message", content


def _audio_message(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "audioMessage", {"url": body["audio"], "mimetype": "audio/ogg; codecs=opus", "ptt": True}


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


def _common_errors(body: dict[str, Any]) -> list[str]:
    errors = []
    if "number" in body and not isinstance(body["number"], str):
        errors.append("Invalid format")
    if "delay" in body and (not isinstance(body["delay"], int) or isinstance(body["delay"], bool)):
        errors.append("Enter a value in milliseconds")
    return errors


def validate_send_media(body: dict[str, Any]) -> list[str]:
    """mediaMessageSchema (src/validate/message.schema.ts) plus the media the docs require."""
    errors = [f'instance requires property "{key}"' for key in ("number", "mediatype", "media") if key not in body]
    errors += _common_errors(body)
    if "mediatype" in body and body["mediatype"] not in MEDIA_TYPES:
        errors.append("mediatype is not one of enum values: image,document,video,audio")
    for key in ("media", "mimetype", "caption", "fileName"):
        if key in body and not isinstance(body[key], str):
            errors.append(f"{key} is not of a type(s) string")
    return errors


def validate_send_audio(body: dict[str, Any]) -> list[str]:
    errors = [f'instance requires property "{key}"' for key in ("number", "audio") if key not in body]
    errors += _common_errors(body)
    if "audio" in body and not isinstance(body["audio"], str):
        errors.append("audio is not of a type(s) string")
    return errors


def validate_webhook(body: dict[str, Any]) -> list[str]:
    """webhookSchema (src/api/integrations/event/webhook/webhook.schema.ts), jsonschema-style
    messages; plus an http(s) url."""
    webhook = body.get("webhook")
    if not isinstance(webhook, dict):
        return (
            ['instance requires property "webhook"']
            if "webhook" not in body
            else ["webhook is not of a type(s) object"]
        )
    errors = [f'webhook requires property "{key}"' for key in ("enabled", "url") if key not in webhook]
    if "enabled" in webhook and not isinstance(webhook["enabled"], bool):
        errors.append("webhook.enabled is not of a type(s) boolean")
    for key in ("byEvents", "base64"):
        if key in webhook and not isinstance(webhook[key], bool):
            errors.append(f"webhook.{key} is not of a type(s) boolean")
    url = webhook.get("url")
    if "url" in webhook and (not isinstance(url, str) or not url):
        errors.append('The "url" cannot be empty')
    elif isinstance(url, str) and not _HTTP_URL.match(url):
        errors.append('Invalid "url" property')
    headers = webhook.get("headers")
    if headers is not None and (not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())):
        errors.append("webhook.headers is not of a type(s) object")
    events = webhook.get("events", [])
    if not isinstance(events, list):
        errors.append("webhook.events is not of a type(s) array")
    else:
        for index, name in enumerate(events):
            if name not in WEBHOOK_EVENTS:
                errors.append(f"webhook.events[{index}] is not one of enum values: {','.join(WEBHOOK_EVENTS)}")
    return errors


def validate_send_template(body: dict[str, Any]) -> list[str]:
    """templateMessageSchema: name and language strings, components an array."""
    errors = [f'instance requires property "{key}"' for key in ("number", "name", "language") if key not in body]
    errors += _common_errors(body)
    for key in ("name", "language"):
        if key in body and not isinstance(body[key], str):
            errors.append(f"{key} is not of a type(s) string")
    if "components" in body and not isinstance(body["components"], list):
        errors.append("components is not of a type(s) array")
    return errors


# Self-registration: the local cloud serves SANDBOX at /evolution and seeds DEMO_SECRETS.
SANDBOX = EvolutionSandbox
DEMO_SECRETS = (
    DemoSecret(
        "evolution",
        lambda base_url: {
            "base_url": base_url,
            "api_key": DEMO_API_KEY,
            "instance": DEMO_INSTANCE,
            "webhook_token": DEMO_WEBHOOK_TOKEN,
        },
    ),
)
