"""Usage and cost per org for every provider (hub.usage): counted in the base client's guarded
path through real adapter calls (moto + respx), priced, reported, and part of the budget."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import respx
from botocore.exceptions import EndpointConnectionError
from pydantic import SecretStr

from hub.ai.spend import Budget, current_month, record_spend, set_budget, usage_report
from hub.config import get_settings
from hub.errors import InvalidRequestError
from hub.payments.models import ChargeSpec, Customer
from hub.providers.asaas.client import AsaasClient, AsaasCredentials
from hub.providers.meta.whatsapp_cloud import WhatsAppCloudClient, WhatsAppCloudCredentials
from hub.providers.outbound import OutboundEmail, WhatsAppTemplate
from hub.providers.resend.client import ResendClient, ResendCredentials
from hub.providers.serpapi.client import SerpApiClient, SerpApiCredentials
from hub.providers.twilio.client import TwilioClient, TwilioCredentials
from hub.retry import RetryPolicy
from hub.usage import meter
from hub.usage.meter import Billing, count_call, month_of
from hub.usage.prices import price_of
from tests.aws.conftest import HubAws
from tests.helpers import FakeLambdaContext, load_function

ORG = "acme"
ONCE = RetryPolicy(max_attempts=1, sleep=lambda _: None)
ACCOUNT_SID = "AC" + "a" * 32


def counters(hub_aws: HubAws, provider: str, operation: str, month: str | None = None) -> dict[str, int]:
    item = (
        hub_aws.client("dynamodb")
        .get_item(
            TableName=hub_aws.env["SPEND_TABLE"],
            Key={"org_id": {"S": ORG}, "sk": {"S": f"usage#{month or month_of()}#{provider}#{operation}"}},
        )
        .get("Item", {})
    )
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def serpapi() -> SerpApiClient:
    return SerpApiClient(
        SerpApiCredentials(api_key=SecretStr("serp-key-123456"), base_url="https://serp.test"),
        retry_policy=ONCE,
        org_id=ORG,
    )


def twilio() -> TwilioClient:
    creds = TwilioCredentials(
        account_sid=ACCOUNT_SID,
        auth_token=SecretStr("auth-token-current"),
        from_number="+5511940000000",
        base_url="https://twilio.test",
    )
    return TwilioClient(creds, retry_policy=ONCE, org_id=ORG)


def resend() -> ResendClient:
    creds = ResendCredentials(api_key=SecretStr("re_test_123"), base_url="https://resend.test")
    return ResendClient(creds, retry_policy=ONCE, org_id=ORG)


def whatsapp() -> WhatsAppCloudClient:
    creds = WhatsAppCloudCredentials(
        access_token=SecretStr("EAAG-secret-token"),
        phone_number_id="106540352242922",
        waba_id="102290129340398",
        base_url="https://graph.test",
    )
    return WhatsAppCloudClient(creds, retry_policy=ONCE, org_id=ORG)


def asaas() -> AsaasClient:
    creds = AsaasCredentials(api_key=SecretStr("asaas-key-123456"), base_url="https://asaas.test")
    return AsaasClient(creds, retry_policy=ONCE, org_id=ORG)


SEARCH_OK = {"search_metadata": {"id": "s1", "status": "Success"}, "organic_results": []}
SMS_CREATED = {"sid": "SM" + "1" * 32, "status": "queued", "num_segments": "2", "price": None}
WA_OK = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "5511987654321", "wa_id": "5511987654321"}],
    "messages": [{"id": "wamid.1", "message_status": "accepted"}],
}
CUSTOMER = Customer(name="Maria", tax_id="12345678909")


def charge_spec(charge_id: str) -> ChargeSpec:
    return ChargeSpec(
        charge_id=charge_id,
        customer=CUSTOMER,
        billing_type="CREDIT_CARD",
        amount_cents=10_000,
        due_date=date(2026, 12, 10),
    )


def asaas_payment(charge_id: str, net: str) -> dict[str, Any]:
    return {
        "id": f"pay_{charge_id}",
        "status": "PENDING",
        "value": 100.00,
        "netValue": float(net),
        "billingType": "CREDIT_CARD",
        "externalReference": charge_id,
        "invoiceUrl": "https://www.asaas.com/i/x",
        "dueDate": "2026-12-10",
    }


def test_every_provider_call_is_counted_with_its_error_class(hub_aws: HubAws) -> None:
    # Given a search that works and one SerpAPI refuses (400: not retried)
    with respx.mock() as mock:
        mock.get("https://serp.test/search").mock(
            side_effect=[
                respx.MockResponse(200, json=SEARCH_OK),
                respx.MockResponse(400, json={"error": "Missing query `q` parameter."}),
            ]
        )
        client = serpapi()
        client.search("google", "padaria em pinheiros")
        # When the second search fails
        with pytest.raises(InvalidRequestError):
            client.search("google", "x")
    # Then both are calls of the month, one an error of its class, only the good one billed
    assert counters(hub_aws, "serpapi", "search") == {
        "calls": 2,
        "errors": 1,
        "errors_InvalidRequestError": 1,
        "units": 1,
        "units_search": 1,
        "cost_nano_usd": 15_000_000,  # USD 0.015, the Developer plan's price per search
    }


def test_twilio_bills_the_segments_it_sent(hub_aws: HubAws) -> None:
    with respx.mock() as mock:
        mock.post(f"https://twilio.test/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json").respond(201, json=SMS_CREATED)
        twilio().send_sms("+5511987654321", "Seu pedido saiu para entrega " * 8)
    price = price_of("twilio", "sms_segment")
    assert price is not None and price.currency == "USD"
    got = counters(hub_aws, "twilio", "send")
    assert (got["calls"], got["units"]) == (1, 2)
    assert got["cost_nano_usd"] == meter.to_nano(price.amount * 2)


def test_resend_bills_each_recipient_as_an_email(hub_aws: HubAws) -> None:
    email = OutboundEmail(
        from_address="Acme <oi@acme.com.br>",
        to=["a@example.com", "b@example.com"],
        cc=["c@example.com"],
        subject="Fatura",
        text="Sua fatura",
    )
    with respx.mock() as mock:
        mock.post("https://resend.test/emails").respond(200, json={"id": "em_1"})
        resend().send_email(email, idempotency_key="fatura-1")
    # USD 0.0004 per email (Pro: USD 20 / 50,000), three recipients
    assert counters(hub_aws, "resend", "send") == {
        "calls": 1,
        "units": 3,
        "units_email": 3,
        "cost_nano_usd": 1_200_000,
    }


def test_whatsapp_cloud_bills_templates_by_category_and_service_messages_nothing(hub_aws: HubAws) -> None:
    with respx.mock() as mock:
        mock.post(url__regex=r"https://graph\.test/.*/messages").respond(200, json=WA_OK)
        client = whatsapp()
        client.send_template("+5511987654321", WhatsAppTemplate(name="pedido", language="pt_BR", category="utility"))
        client.send_template("+5511987654321", WhatsAppTemplate(name="promo", language="pt_BR"))
        client.send_text("+5511987654321", "Oi!")
    got = counters(hub_aws, "whatsapp_cloud", "send")
    assert (got["calls"], got["units_utility"], got["units_marketing"], got["units_service"]) == (3, 1, 1, 1)
    # utility 0.0068 + marketing (the rate when the category is not stated) 0.0625; service free
    assert got["cost_nano_usd"] == 69_300_000


def test_asaas_bills_the_fee_it_states_on_the_charge(hub_aws: HubAws) -> None:
    with respx.mock() as mock:
        mock.post("https://asaas.test/payments").respond(200, json=asaas_payment("c1", "97.01"))
        asaas().create_charge(charge_spec("c1"), "cus_1")
    # value 100.00 - netValue 97.01 = R$ 2.99, in BRL as Asaas bills it
    assert counters(hub_aws, "asaas", "create_charge") == {
        "calls": 1,
        "units": 1,
        "units_charge": 1,
        "cost_nano_brl": 2_990_000_000,
    }


def test_a_dynamodb_failure_while_counting_does_not_fail_the_call(
    hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unreachable:
        def update_item(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.test")

    monkeypatch.setattr(meter, "_counter_client", Unreachable)
    with respx.mock() as mock:
        mock.get("https://serp.test/search").respond(200, json=SEARCH_OK)
        results = serpapi().search("google", "padaria")
    assert results is not None
    monkeypatch.undo()
    assert counters(hub_aws, "serpapi", "search") == {}


def test_without_a_table_nothing_is_counted(hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPEND_TABLE")
    get_settings.cache_clear()

    def no_dynamodb() -> Any:
        raise AssertionError("counting without a table must not reach DynamoDB")

    monkeypatch.setattr(meter, "_counter_client", no_dynamodb)
    with respx.mock() as mock:
        mock.get("https://serp.test/search").respond(200, json=SEARCH_OK)
        serpapi().search("google", "padaria")
    monkeypatch.undo()


def test_the_budget_covers_ai_and_providers_and_120_percent_fires_once_a_month(hub_aws: HubAws) -> None:
    tap = hub_aws.bus_tap("budget-total-tap", {"detail-type": ["budget.threshold"]})
    set_budget(ORG, Budget(monthly_usd=Decimal("1.00")))
    now = datetime.now(UTC)
    # AI alone: USD 0.50, under 80 %
    record_spend(ORG, "openai", "gpt-6-luna", input_tokens=1, output_tokens=1, cost_usd=Decimal("0.50"), now=now)
    # Asaas fees in BRL take the total past 120 % (R$ 10.00 at USD_BRL_RATE), then once more
    with respx.mock() as mock:
        mock.post("https://asaas.test/payments").mock(
            side_effect=[
                respx.MockResponse(200, json=asaas_payment("c1", "90.00")),
                respx.MockResponse(200, json=asaas_payment("c2", "90.00")),
            ]
        )
        asaas().create_charge(charge_spec("c1"), "cus_1")
        asaas().create_charge(charge_spec("c2"), "cus_1")
    # Next month: the thresholds are new
    next_month = datetime(now.year + (now.month == 12), now.month % 12 + 1, 15, 12, tzinfo=UTC)
    count_call(ORG, "asaas", "create_charge", billing=Billing(1, cost=Decimal("50.00")), now=next_month)

    events = []
    sqs = hub_aws.client("sqs")
    while batch := sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10).get("Messages"):
        events += [json.loads(m["Body"])["detail"] for m in batch]
        for m in batch:
            sqs.delete_message(QueueUrl=tap, ReceiptHandle=m["ReceiptHandle"])
    fired = sorted((e["month"], e["threshold_percent"]) for e in events)
    this, following = month_of(now), month_of(next_month)
    assert fired == [(this, 80), (this, 100), (this, 120), (following, 80), (following, 100), (following, 120)]
    first_120 = next(e for e in events if e["month"] == this and e["threshold_percent"] == 120)
    rate = get_settings().usd_brl_rate
    assert Decimal(first_120["spent_usd"]) == (Decimal("0.50") + Decimal("10.00") / rate).quantize(
        Decimal("0.000000001")
    )


def test_the_report_has_provider_lines_quotas_and_totals_in_brl(hub_aws: HubAws) -> None:
    hub_aws.put_secret(ORG, "serpapi", {"api_key": "serp-key-123456", "base_url": "https://serp.test"})
    with respx.mock() as mock:
        mock.get("https://serp.test/search").respond(200, json=SEARCH_OK)
        mock.post("https://asaas.test/payments").respond(200, json=asaas_payment("c1", "97.01"))
        serpapi().search("google", "padaria")
        asaas().create_charge(charge_spec("c1"), "cus_1")
    first, last = current_month()
    report = usage_report(ORG, first, last)
    rate = report.usd_brl_rate
    lines = {(line.provider, line.operation): line for line in report.providers}
    search = lines[("serpapi", "search")]
    assert (search.calls, search.errors, search.units, search.cost_usd) == (1, 0, 1, Decimal("0.015000000"))
    assert search.cost_brl == (Decimal("0.015") * rate).quantize(Decimal("0.01"))
    fee = lines[("asaas", "create_charge")]
    assert (fee.cost_usd, fee.cost_brl) == (None, Decimal("2.99"))
    assert report.providers_total_brl == search.cost_brl + Decimal("2.99")
    assert report.grand_total_brl == report.total_brl + report.providers_total_brl
    # SerpAPI's plan searches: used vs limit (the hub's own counter for the org's account)
    quota = next(q for q in report.quotas if (q.provider, q.rule) == ("serpapi", "searches_per_month"))
    assert (quota.used, quota.limit) == (1, 5_000)


def test_without_dates_the_report_is_the_current_month_in_brasilia(hub_aws: HubAws) -> None:
    # 02:00 UTC on 1 December is still 30 November in Brasília
    assert current_month(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)) == (date(2026, 11, 1), date(2026, 11, 30))
    assert current_month(datetime(2028, 2, 10, 12, 0, tzinfo=UTC)) == (date(2028, 2, 1), date(2028, 2, 29))
    with respx.mock() as mock:
        mock.get("https://serp.test/search").respond(200, json=SEARCH_OK)
        serpapi().search("google", "padaria")
    fn = load_function("usage_report")
    result = fn.handler({"org_id": ORG}, FakeLambdaContext("UsageReport"))
    first, last = current_month()
    assert (result["start"], result["end"]) == (first.isoformat(), last.isoformat())
    assert [(p["provider"], p["calls"]) for p in result["providers"]] == [("serpapi", 1)]


def test_one_date_without_the_other_is_refused(hub_aws: HubAws) -> None:
    fn = load_function("usage_report")
    with pytest.raises(InvalidRequestError) as info:
        fn.handler({"org_id": ORG, "start": "2026-11-01"}, FakeLambdaContext("UsageReport"))
    assert "end" in str(info.value)


def test_a_threshold_whose_event_was_not_published_fires_with_the_next_cost(
    hub_aws: HubAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.ai import spend
    from hub.errors import ProviderUnavailableError

    set_budget(ORG, Budget(monthly_usd=Decimal("1.00")))
    published: list[int] = []

    def bus_down(detail_type: str, detail: dict[str, Any]) -> None:
        raise ProviderUnavailableError("EventBridge refused an event", provider="events")

    def bus_up(detail_type: str, detail: dict[str, Any]) -> None:
        published.append(detail["threshold_percent"])

    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    monkeypatch.setattr(spend, "put_event", bus_down)
    count_call(ORG, "serpapi", "search", billing=Billing(1, cost=Decimal("0.90"), currency="USD"), now=now)
    monkeypatch.setattr(spend, "put_event", bus_up)
    count_call(ORG, "serpapi", "search", billing=Billing(1, cost=Decimal("0.01"), currency="USD"), now=now)
    assert published == [80]


FAILING_CALLS: list[tuple[str, str, dict[str, str], Any]] = [
    ("serpapi", "search", {"url__startswith": "https://serp.test/search"}, lambda: serpapi().search("google", "x")),
    (
        "twilio",
        "send",
        {"url__startswith": f"https://twilio.test/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"},
        lambda: twilio().send_sms("+5511987654321", "Oi"),
    ),
    (
        "resend",
        "send",
        {"url__startswith": "https://resend.test/emails"},
        lambda: resend().send_email(
            OutboundEmail(from_address="oi@acme.com.br", to=["a@example.com"], subject="S", text="T"),
            idempotency_key="k-1",
        ),
    ),
    (
        "whatsapp_cloud",
        "send",
        {"url__regex": r"https://graph\.test/.*/messages"},
        lambda: whatsapp().send_text("+5511987654321", "Oi"),
    ),
    (
        "asaas",
        "create_charge",
        {"url__startswith": "https://asaas.test/payments"},
        lambda: asaas().create_charge(charge_spec("c9"), "cus_1"),
    ),
]


@pytest.mark.parametrize(("provider", "operation", "route", "call"), FAILING_CALLS, ids=[c[0] for c in FAILING_CALLS])
def test_a_refused_call_is_counted_as_an_error_of_its_class_and_bills_nothing(
    hub_aws: HubAws, provider: str, operation: str, route: dict[str, str], call: Any
) -> None:
    from hub.errors import HubError

    # Given the provider refuses the request (400: not retried)
    with respx.mock() as mock:
        mock.route(**route).respond(
            400, json={"error": {"message": "bad request", "code": 100}, "message": "bad request", "errors": []}
        )
        with pytest.raises(HubError) as info:
            call()
    # Then it is one call, one error of the class the caller got, and nothing billed
    assert counters(hub_aws, provider, operation) == {
        "calls": 1,
        "errors": 1,
        f"errors_{type(info.value).__name__}": 1,
    }
