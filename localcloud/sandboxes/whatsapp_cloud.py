"""WhatsApp Cloud API (Meta Graph) sandbox, mounted at ``/whatsapp_cloud`` (the secret's base_url).

Implemented (``Authorization: Bearer <DEMO_ACCESS_TOKEN>``, any ``vNN.N`` version, the phone
number id must be :data:`DEMO_PHONE_NUMBER_ID`):

* ``POST /{version}/{phone_number_id}/messages`` with ``messaging_product: "whatsapp"``,
  ``to`` (digits), ``type`` in text/image/video/audio/document/template and the object of that
  type -> ``{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid.…",
  "message_status": "accepted"}]}``.
  Templates must be one of :data:`DEMO_TEMPLATES` in its language with exactly its number of
  body parameters (and none for header/buttons): unknown -> 132001, wrong count -> 132000.
  Numbers starting with ``5500`` -> 131026 (undeliverable); free-form (non-template) messages to
  numbers starting with ``5501`` -> 131047 (outside the 24-hour window).
* ``GET /{version}/{phone_number_id}[?fields=a,b]`` -> the phone number node (only the asked
  fields, plus ``id``).

Errors use the Graph body ``{"error": {"message", "type", "code", "error_data"?: {"messaging_product",
"details"}, "fbtrace_id"}}`` and the ``x-fb-trace-id`` header, as documented at
https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes .
Faults: ``rate_limited`` -> 130429, ``error`` 500 -> 131000, 503 -> 2.

Not emulated: media ids/uploads, interactive/location/contacts/reaction messages, status webhooks,
template header/button parameters, per-number throughput.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.demo import DEMO_CLOUD_ORG_ID
from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response

PROVIDER = "whatsapp_cloud"
DEMO_ACCESS_TOKEN = "demo-whatsapp-cloud-token"
DEMO_PHONE_NUMBER_ID = "106540352242922"
DEMO_WABA_ID = "102290129340398"
DEMO_GRAPH_VERSION = "v26.0"
DEMO_DISPLAY_PHONE_NUMBER = "+55 11 4000-0000"
DEMO_VERIFIED_NAME = "Somos Demo"

UNDELIVERABLE_PREFIX = "5500"
OUTSIDE_WINDOW_PREFIX = "5501"
MEDIA_TYPES = ("image", "video", "audio", "document")
MAX_TEXT = 4096
_DIGITS = re.compile(r"^[0-9]{8,15}$")
_VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class DemoTemplate:
    language: str
    body_parameters: int


# Approved templates of the demo WhatsApp Business Account.
DEMO_TEMPLATES: dict[str, DemoTemplate] = {
    # "Olá {{1}}, lembrete da sua reunião em {{2}}."
    "lembrete_reuniao": DemoTemplate(language="pt_BR", body_parameters=2),
    # "Oi {{1}}, podemos retomar nossa conversa?"
    "retomar_conversa": DemoTemplate(language="pt_BR", body_parameters=1),
}


def fbtrace_id() -> str:
    return "A" + "".join(secrets.choice(_ALNUM) for _ in range(22))


def wamid(to: str) -> str:
    """A wamid shaped like Meta's: base64 of (0x1c 0x18 len phone 0x15 0x02 0x00 0x11 0x18 0x12 hex18 0x00)."""
    raw = (
        b"\x1c\x18"
        + bytes([len(to)])
        + to.encode()
        + b"\x15\x02\x00\x11\x18\x12"
        + secrets.token_hex(9).upper().encode()
        + b"\x00"
    )
    return "wamid." + base64.b64encode(raw).decode()


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    details: str | None = None,
    error_type: str = "OAuthException",
    subcode: int | None = None,
) -> Response:
    trace = fbtrace_id()
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = trace
    return json_response({"error": error}, status, headers={"x-fb-trace-id": trace})


def meta_error_object(code: int, message: str, details: str) -> dict[str, Any]:
    """The inner Graph error object (Evolution's official-API channel relays it verbatim)."""
    return {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": fbtrace_id(),
    }


def template_error(template: Any) -> tuple[int, str, str] | None:
    """(code, message, details) when ``template`` is not a valid use of a demo template."""
    if not isinstance(template, dict) or not isinstance(template.get("name"), str):
        return (100, "(#100) The parameter template['name'] is required.", "template['name'] is required")
    name: str = template["name"]
    language = template.get("language")
    code = language.get("code") if isinstance(language, dict) else language
    known = DEMO_TEMPLATES.get(name)
    if known is None or code != known.language:
        return (
            132001,
            "(#132001) Template name does not exist in the translation",
            f"template name ({name}) does not exist in {code}",
        )
    counts = {"header": 0, "body": 0, "button": 0}
    components = template.get("components") or []
    if not isinstance(components, list):
        return (100, "(#100) Invalid parameter", "components must be an array")
    for component in components:
        kind = component.get("type") if isinstance(component, dict) else None
        params = component.get("parameters") if isinstance(component, dict) else None
        if kind not in counts or not isinstance(params, list):
            return (100, "(#100) Invalid parameter", "each component needs a type and parameters")
        counts[str(kind)] += len(params)
    expected = {"header": 0, "body": known.body_parameters, "button": 0}
    for kind in ("header", "body", "button"):
        if counts[kind] != expected[kind]:
            return (
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                f"{kind}: number of localizable_params ({counts[kind]}) does not match the expected "
                f"number of params ({expected[kind]})",
            )
    return None


class WhatsAppCloudSandbox(Sandbox):
    provider = PROVIDER

    def __init__(self, access_token: str = DEMO_ACCESS_TOKEN, phone_number_id: str = DEMO_PHONE_NUMBER_ID) -> None:
        super().__init__()
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.sent: list[dict[str, Any]] = []
        self.route("/<version>/<phone_number_id>/messages", ["POST"], self.send_message)
        self.route("/<version>/<phone_number_id>", ["GET"], self.phone_number)

    # -- error shapes ------------------------------------------------------ #

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status == 429:
            return graph_error(
                429, 130429, "(#130429) Rate limit hit", details="Cloud API message throughput has been reached."
            )
        if status == 401:
            return graph_error(401, 190, message or "Invalid OAuth access token - Cannot parse access token")
        if status == 503:
            return graph_error(503, 2, "Service temporarily unavailable", error_type="OAuthException")
        if status >= 500:
            return graph_error(status, 131000, "(#131000) Something went wrong", details="Something went wrong")
        return graph_error(status, 100, message or "(#100) Invalid parameter")

    def not_found(self, request: Request, subpath: str) -> Response:
        return graph_error(400, 2500, f"Unknown path components: {subpath}")

    def reset(self) -> None:
        with self.lock:
            self.sent.clear()

    # -- guards ------------------------------------------------------------ #

    def _guard(self, request: Request, version: str, phone_number_id: str) -> Response | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return graph_error(
                400, 2500, "An active access token must be used to query information about the current user."
            )
        if token != self.access_token:
            return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if not _VERSION.fullmatch(version):
            return graph_error(400, 2500, f"Unknown path components: /{version}/{phone_number_id}")
        if phone_number_id != self.phone_number_id:
            return graph_error(
                400,
                100,
                f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation.",
                error_type="GraphMethodException",
                subcode=33,
            )
        return None

    # -- endpoints --------------------------------------------------------- #

    def phone_number(self, request: Request, version: str, phone_number_id: str) -> Response:
        denied = self._guard(request, version, phone_number_id)
        if denied is not None:
            return denied
        node: dict[str, Any] = {
            "verified_name": DEMO_VERIFIED_NAME,
            "code_verification_status": "VERIFIED",
            "display_phone_number": DEMO_DISPLAY_PHONE_NUMBER,
            "quality_rating": "GREEN",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "id": phone_number_id,
        }
        fields = [f.strip() for f in (request.args.get("fields") or "").split(",") if f.strip()]
        if fields:
            node = {k: v for k, v in node.items() if k in fields or k == "id"}
        return json_response(node)

    def send_message(self, request: Request, version: str, phone_number_id: str) -> Response:
        denied = self._guard(request, version, phone_number_id)
        if denied is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return graph_error(400, 100, "(#100) Invalid parameter", details="The request body must be a JSON object")
        problem = validate_message(body)
        if problem is not None:
            return graph_error(400, 100, f"(#100) {problem}", details=problem)
        to: str = body["to"]
        kind: str = body["type"]
        if to.startswith(UNDELIVERABLE_PREFIX):
            return graph_error(
                400,
                131026,
                "(#131026) Message Undeliverable.",
                details="Message Undeliverable.",
            )
        if kind == "template":
            failure = template_error(body["template"])
            if failure is not None:
                code, message, details = failure
                return graph_error(400, code, message, details=details)
        elif to.startswith(OUTSIDE_WINDOW_PREFIX):
            return graph_error(
                400,
                131047,
                "(#131047) Re-engagement message",
                details="Message failed to send because more than 24 hours have passed since the customer "
                "last replied to this number.",
            )
        message_id = wamid(to)
        with self.lock:
            self.sent.append({"version": version, "request": body, "id": message_id})
        return json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": message_id, "message_status": "accepted"}],
            }
        )


def validate_message(body: dict[str, Any]) -> str | None:
    """The first problem Meta would report for this send body, or None."""
    if body.get("messaging_product") != "whatsapp":
        return "The parameter messaging_product is required."
    if body.get("recipient_type", "individual") != "individual":
        return "Param recipient_type must be one of {INDIVIDUAL, GROUP}"
    to = body.get("to")
    if not isinstance(to, str) or not _DIGITS.fullmatch(to.lstrip("+")):
        return "Param to must be a phone number"
    kind = body.get("type", "text")
    if kind not in ("text", "template", *MEDIA_TYPES):
        return f"Param type must be one of text, template, {', '.join(MEDIA_TYPES)}"
    content = body.get(kind)
    if not isinstance(content, dict):
        return f"The parameter {kind} is required."
    if kind == "text":
        text = content.get("body")
        if not isinstance(text, str) or not text:
            return "The parameter text['body'] is required."
        if len(text) > MAX_TEXT:
            return f"Param text['body'] must be at most {MAX_TEXT} characters long."
        if "preview_url" in content and not isinstance(content["preview_url"], bool):
            return "Param text['preview_url'] must be a boolean."
    elif kind in MEDIA_TYPES:
        link = content.get("link")
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            return f"Param {kind}['link'] must be a valid URL"
        if "caption" in content and kind == "audio":
            return "Param audio['caption'] is not a valid parameter"
        if "filename" in content and kind != "document":
            return f"Param {kind}['filename'] is not a valid parameter"
    return None


# Self-registration: the local cloud serves SANDBOX at /whatsapp_cloud and seeds DEMO_SECRETS.
SANDBOX = WhatsAppCloudSandbox
DEMO_SECRETS = (
    # The second demo org sends WhatsApp through Meta's Cloud API (24-hour window rules).
    DemoSecret(
        "whatsapp_cloud",
        lambda base_url: {
            "base_url": base_url,
            "access_token": DEMO_ACCESS_TOKEN,
            "phone_number_id": DEMO_PHONE_NUMBER_ID,
            "graph_version": DEMO_GRAPH_VERSION,
        },
        org_id=DEMO_CLOUD_ORG_ID,
    ),
)
