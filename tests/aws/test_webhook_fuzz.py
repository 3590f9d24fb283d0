"""Property: whatever arrives, a receiver never answers 5xx and never makes an event
from a request it could not authenticate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localcloud.demo import demo_secret_values
from localcloud.sandboxes import twilio as twilio_sandbox
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, api_event, load_function

RECEIVERS = {
    "evolution": "/webhooks/evolution/{org_id}",
    "stripe": "/webhooks/stripe/{org_id}",
    "meta": "/webhooks/meta/{org_id}",
    "resend": "/webhooks/resend/{org_id}",
    "asaas": "/webhooks/asaas/{org_id}",
    "mercadopago": "/webhooks/mercadopago/{org_id}",
    "custom": "/webhooks/custom/{source}/{org_id}",
}

HEADER_NAMES = st.sampled_from(
    [
        "Authorization",
        "Stripe-Signature",
        "X-Hub-Signature-256",
        "svix-id",
        "svix-timestamp",
        "svix-signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "asaas-access-token",
        "x-signature",
        "x-request-id",
        "Content-Type",
    ]
)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.text(max_size=300),
    json_values.map(json.dumps),
    st.builds(
        lambda event, data: json.dumps({"event": event, "type": event, "id": "x", "data": data, "entry": [data]}),
        st.sampled_from(["messages.upsert", "payment_intent.succeeded", "PAYMENT_RECEIVED", "email.bounced"]),
        json_values,
    ),
)


@pytest.fixture
def seeded(hub_aws: HubAws) -> HubAws:
    for provider, value in demo_secret_values("http://127.0.0.1:9").items():
        hub_aws.put_secret("demo", provider, value)
    return hub_aws


@pytest.mark.parametrize("provider", sorted(RECEIVERS))
def test_arbitrary_requests_never_5xx_and_never_an_event(seeded: HubAws, provider: str) -> None:
    module = load_function(f"webhook_{provider}")
    resource = RECEIVERS[provider]
    params = {"org_id": "demo", **({"source": "crm"} if "{source}" in resource else {})}
    path = resource.format(**params)
    statuses: set[int] = set()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=bodies, headers=st.dictionaries(HEADER_NAMES, header_values, max_size=6))
    def check(body: str, headers: dict[str, str]) -> None:
        event = api_event("POST", path, resource=resource, path_parameters=params, body=body, headers=headers)
        response: dict[str, Any] = module.handler(event, FakeLambdaContext(f"Webhook{provider}"))
        statuses.add(response["statusCode"])
        assert response["statusCode"] < 500, response["body"]

    check()
    assert statuses <= {400, 401, 404, 413}
    assert seeded.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


@pytest.mark.parametrize("provider", ["evolution", "asaas"])
def test_authenticated_garbage_is_a_4xx_or_ignored_never_5xx(seeded: HubAws, provider: str) -> None:
    """Token-authenticated providers: a valid token with any JSON must still never be a 5xx."""
    module = load_function(f"webhook_{provider}")
    resource = RECEIVERS[provider]
    auth = (
        {"Authorization": "Bearer demo-evolution-webhook-token"}
        if provider == "evolution"
        else {"asaas-access-token": "demo-asaas-webhook-token-for-the-hub"}
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=bodies)
    def check(body: str) -> None:
        event = api_event(
            "POST",
            f"/webhooks/{provider}/demo",
            resource=resource,
            path_parameters={"org_id": "demo"},
            body=body,
            headers=auth,
        )
        response: dict[str, Any] = module.handler(event, FakeLambdaContext(f"Webhook{provider}"))
        assert response["statusCode"] in (200, 400), response["body"]

    check()


# Validly signed but hostile JSON: each must be a 400 naming the problem (never a 5xx, never an
# event), and the raw request must still be archived for an operator to look at.
HOSTILE_BODIES = {
    "deep_array": ("[" * 10_000 + "]" * 10_000, "nests deeper than"),
    "deep_object": ('{"a":' * 5_000 + "1" + "}" * 5_000, "nests deeper than"),
    "huge_integer": ('{"id": "x", "amount": ' + "9" * 5_000 + "}", "more than 40 digits"),
    "huge_exponent": ('{"id": "x", "value": 1e999999999}', "exponent"),
    "tiny_exponent": ('{"id": "x", "value": 1.5e-4000}', "exponent"),
    "nan": ('{"id": "x", "value": NaN}', "NaN is not a JSON value"),
    "infinity": ('{"id": "x", "value": -Infinity}', "-Infinity is not a JSON value"),
    "lone_surrogate": ('{"id": "x", "type": "\\ud800"}', "unpaired UTF-16 surrogate"),
}
SIGNED_RECEIVERS = ["evolution", "stripe", "meta", "resend", "asaas", "mercadopago", "custom"]


@pytest.mark.parametrize("provider", SIGNED_RECEIVERS)
def test_signed_hostile_json_is_a_400_naming_the_problem_and_archived(seeded: HubAws, provider: str) -> None:
    from tests.signing import signed_headers

    # Given a receiver and validly signed bodies that are hostile JSON
    module = load_function(f"webhook_{provider}")
    resource = RECEIVERS[provider]
    params = {"org_id": "demo", **({"source": "crm"} if "{source}" in resource else {})}
    path = resource.format(**params)
    for name, (body, problem) in HOSTILE_BODIES.items():
        event = api_event(
            "POST",
            path,
            resource=resource,
            path_parameters=params,
            body=body,
            headers=signed_headers(provider, body),
        )
        # When each is posted
        response: dict[str, Any] = module.handler(event, FakeLambdaContext(f"Webhook{provider}"))
        # Then the answer is a 400 that names the problem
        assert response["statusCode"] == 400, (name, response["body"])
        assert problem in json.loads(response["body"])["message"], (name, response["body"])
    # and every request is archived, none became an event
    assert len(seeded.archived_keys()) == len(HOSTILE_BODIES)
    assert seeded.queue_messages("INBOUND_EVENTS_QUEUE_URL") == []


def test_signed_hostile_twilio_forms_are_never_a_5xx(seeded: HubAws) -> None:
    """Twilio posts forms, not JSON (a bounded, strict form parser): a signed form whose values
    are hostile is still a valid message (200) or refused (4xx), never a 5xx."""
    from urllib.parse import urlencode

    from hub.providers.twilio.webhook import compute_twilio_signature

    module = load_function("webhook_twilio")
    url = "https://hub.test/webhooks/twilio/demo"
    base = [
        ("AccountSid", twilio_sandbox.DEMO_ACCOUNT_SID),
        ("From", "+5511987654321"),
        ("To", twilio_sandbox.DEMO_FROM_NUMBER),
    ]
    forms = {
        "json_lookalike_body": [*base, ("MessageSid", "SMhostile1"), ("Body", "[" * 10_000 + "]" * 10_000)],
        "huge_num_media": [*base, ("MessageSid", "SMhostile2"), ("NumMedia", "9" * 5_000)],
        "too_many_fields": [*base, ("MessageSid", "SMhostile3"), *((f"f{i}", "x") for i in range(2_000))],
    }
    statuses = {}
    for name, params in forms.items():
        headers = {
            "Host": "hub.test",
            "X-Forwarded-Proto": "https",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": compute_twilio_signature(twilio_sandbox.DEMO_AUTH_TOKEN, url, params),
        }
        event = api_event(
            "POST",
            "/webhooks/twilio/demo",
            resource="/webhooks/twilio/{org_id}",
            path_parameters={"org_id": "demo"},
            body=urlencode(params),
            headers=headers,
        )
        statuses[name] = module.handler(event, FakeLambdaContext("WebhookTwilio"))["statusCode"]
    assert statuses == {"json_lookalike_body": 200, "huge_num_media": 200, "too_many_fields": 401}
