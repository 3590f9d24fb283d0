"""AsaasClient against Asaas's documented requests, responses and error bodies.

Auth/headers: https://docs.asaas.com/docs/autenticacao; errors:
https://docs.asaas.com/docs/http-response-codes; limits: https://docs.asaas.com/docs/api-limits-1;
payments: https://docs.asaas.com/reference/criar-nova-cobranca,
https://docs.asaas.com/reference/list-payments; statement: https://docs.asaas.com/reference/extrato.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.payments.models import ChargeSpec, Customer
from hub.providers.asaas.client import (
    DEFAULT_USER_AGENT,
    PRODUCTION_BASE_URL,
    SANDBOX_BASE_URL,
    AsaasClient,
    AsaasCredentials,
    BankAccount,
    dumps_json,
)
from hub.providers.base.client import ProviderCredentials
from tests.helpers import AdapterFactory, recording, recording_json

KEY = "$aact_test_key_123"
BASE = "https://asaas.test/v3"
CUSTOMER = Customer(
    name="Maria Souza", tax_id="12345678909", email="maria@example.com", phone="+5511987654321", external_reference="c1"
)

Handler = Callable[[httpx.Request], httpx.Response]


def asaas_creds(**overrides: Any) -> ProviderCredentials:
    return AsaasClient.parse_credentials({"api_key": KEY, "base_url": BASE, **overrides})


client_with = AdapterFactory(AsaasClient, asaas_creds(), attempts=1)


def spec(billing_type: str = "BOLETO", amount_cents: int = 1234567, **overrides: Any) -> ChargeSpec:
    values: dict[str, Any] = {
        "charge_id": "ch123",
        "customer": CUSTOMER,
        "billing_type": billing_type,
        "amount_cents": amount_cents,
        "due_date": date(2030, 1, 15),
        "description": "Pacote de fotos",
        **overrides,
    }
    return ChargeSpec(**values)


def payment(pid: str = "pay_abc123", value: Any = 12345.67, **fields: Any) -> dict[str, Any]:
    return {
        "object": "payment",
        "id": pid,
        "customer": "cus_000005219613",
        "value": value,
        "billingType": "BOLETO",
        "status": "PENDING",
        "dueDate": "2030-01-15",
        "invoiceUrl": f"https://sandbox.asaas.com/i/{pid[4:]}",
        "bankSlipUrl": f"https://sandbox.asaas.com/b/pdf/{pid[4:]}",
        "externalReference": "ch123",
        "deleted": False,
        **fields,
    }


def raw(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response whose JSON is written as-is (money as JSON numbers, never via float)."""
    text = body if isinstance(body, str) else json.dumps(body)
    return httpx.Response(
        status, content=text.encode(), headers={"content-type": "application/json", **(headers or {})}
    )


def listing(items: list[dict[str, Any]], has_more: bool = False, offset: int = 0) -> httpx.Response:
    return raw(
        {"object": "list", "hasMore": has_more, "totalCount": len(items), "limit": 100, "offset": offset, "data": items}
    )


def asaas_errors(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"errors": [{"code": code, "description": text} for code, text in pairs]}


# ----- credentials and headers -----------------------------------------------------------------


def test_environment_selects_the_documented_base_urls() -> None:
    def base(**creds: Any) -> str:
        return AsaasClient(AsaasClient.parse_credentials({"api_key": KEY, **creds})).base_url

    assert base() == PRODUCTION_BASE_URL == "https://api.asaas.com/v3"
    assert base(environment="sandbox") == SANDBOX_BASE_URL == "https://api-sandbox.asaas.com/v3"
    assert base(environment="sandbox", base_url="http://127.0.0.1:4010/asaas/v3/") == "http://127.0.0.1:4010/asaas/v3"


def test_one_secret_serves_the_webhook_and_the_api() -> None:
    creds = AsaasClient.parse_credentials({"api_key": KEY, "webhook_token": "tok", "previous_webhook_token": ""})
    assert isinstance(creds, AsaasCredentials)
    assert creds.webhook_token is not None and creds.previous_webhook_token is None
    assert KEY not in repr(creds)
    with pytest.raises(ConfigurationError) as info:
        AsaasClient.parse_credentials({"webhook_token": "tok"})
    assert "api_key" in info.value.message
    with pytest.raises(ConfigurationError):
        AsaasClient.parse_credentials({"api_key": KEY, "environment": "homolog"})


def test_requests_carry_access_token_and_user_agent_and_no_idempotency_header() -> None:
    seen, handler = recording(raw({"balance": 10.5}))

    client_with(handler).health_check()
    client_with(handler, creds=asaas_creds(user_agent="SomosHub/2.0")).health_check()
    first, second = seen
    assert (first.method, str(first.url)) == ("GET", f"{BASE}/finance/balance")
    assert first.headers["access_token"] == KEY
    assert first.headers["user-agent"] == DEFAULT_USER_AGENT
    assert second.headers["user-agent"] == "SomosHub/2.0"
    assert not any("idempotency" in name.lower() for name in first.headers)
    assert first.content == b""  # a GET with a body is a 403 at Asaas


# ----- money ---------------------------------------------------------------------------------------


def test_decimal_json_is_exact_and_refuses_floats() -> None:
    assert dumps_json({"value": Decimal("12345.67"), "n": [Decimal("-0.10"), 3, None, True, "ã"]}) == (
        '{"value":12345.67,"n":[-0.10,3,null,true,"ã"]}'.encode()
    )
    assert dumps_json({"value": Decimal("1E+2")}) == b'{"value":100}'
    assert dumps_json({"value": Decimal("99999999999.99")}) == b'{"value":99999999999.99}'
    with pytest.raises(TypeError):
        dumps_json({"value": 0.1})


# ----- charges -------------------------------------------------------------------------------------


def test_create_boleto_charge_sends_reais_exactly_and_returns_the_digitable_line() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return raw(
                '{"object":"payment","id":"pay_abc123","value":12345.67,"status":"PENDING",'
                '"billingType":"BOLETO","externalReference":"ch123","deleted":false,'
                '"invoiceUrl":"https://sandbox.asaas.com/i/abc123",'
                '"bankSlipUrl":"https://sandbox.asaas.com/b/pdf/abc123"}'
            )
        return raw(
            {
                "identificationField": "46191110000000000000000000000001234567",
                "nossoNumero": "6543",
                "barCode": "46191234567",
            }
        )

    result = client_with(handler).create_charge(spec(), "cus_000005219613")

    post, line = seen
    assert (post.method, str(post.url)) == ("POST", f"{BASE}/payments")
    assert post.headers["content-type"] == "application/json"
    assert post.content == (
        b'{"customer":"cus_000005219613","billingType":"BOLETO","value":12345.67,"dueDate":"2030-01-15",'
        b'"externalReference":"ch123","description":"Pacote de fotos"}'
    )
    assert (line.method, str(line.url)) == ("GET", f"{BASE}/payments/pay_abc123/identificationField")
    assert result.model_dump() == {
        "provider": "asaas",
        "provider_charge_id": "pay_abc123",
        "charge_id": "ch123",
        "status": "PENDING",
        "amount_cents": 1234567,
        "payment_url": "https://sandbox.asaas.com/i/abc123",
        "boleto_digitable_line": "46191110000000000000000000000001234567",
        "boleto_url": "https://sandbox.asaas.com/b/pdf/abc123",
        "pix_payload": None,
        "pix_qr_png_base64": None,
        "expires_at": None,
        "paid_at": None,
    }


@pytest.mark.parametrize(("cents", "text"), [(1, b"0.01"), (10, b"0.10"), (100, b"1.00"), (1999, b"19.99")])
def test_small_amounts_keep_their_cents(cents: int, text: bytes) -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return raw(payment(value=json.loads(text), billingType="CREDIT_CARD"))

    client_with(handler).create_charge(spec("CREDIT_CARD", cents), "cus_1")
    assert b'"value":' + text + b"," in bodies[0]
    assert len(bodies) == 1  # a card charge has no boleto line or QR code to fetch


def test_pix_charge_returns_the_copy_and_paste_payload_and_image() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return raw(payment(billingType="PIX", bankSlipUrl=None))
        assert request.url.path.endswith("/payments/pay_abc123/pixQrCode")
        return raw(
            {
                "encodedImage": "iVBORw0KGgo=",
                "payload": "00020101021226...6304ABCD",
                "expirationDate": "2031-01-15 23:59:59",
            }
        )

    result = client_with(handler).create_charge(spec("PIX"), "cus_1")
    assert result.pix_payload == "00020101021226...6304ABCD"
    assert result.pix_qr_png_base64 == "iVBORw0KGgo="
    assert result.expires_at == "2031-01-15 23:59:59"
    assert result.boleto_url is None and result.boleto_digitable_line is None


def test_a_qr_code_not_ready_does_not_fail_the_charge() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return raw(payment(billingType="UNDEFINED"))
        return raw(asaas_errors(("not_found", "QR Code indisponível")), 404)

    result = client_with(handler).create_charge(spec("UNDEFINED"), "cus_1")
    assert result.provider_charge_id == "pay_abc123"
    assert result.pix_payload is None and result.boleto_digitable_line is None
    assert result.payment_url == "https://sandbox.asaas.com/i/abc123"


def test_a_retry_after_a_5xx_finds_the_charge_instead_of_creating_it_again() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        if request.method == "POST":
            return raw(asaas_errors(("internal_error", "Erro interno")), 502)
        if request.url.path.endswith("/payments"):
            return listing([payment(billingType="CREDIT_CARD")])
        raise AssertionError(request.url)

    result = client_with(handler, attempts=3).create_charge(spec("CREDIT_CARD"), "cus_1")
    assert result.provider_charge_id == "pay_abc123"
    assert seen == ["POST /v3/payments?", "GET /v3/payments?externalReference=ch123&limit=100"]


def test_a_retry_after_a_5xx_creates_when_the_lookup_finds_nothing() -> None:
    posts: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.content)
            if len(posts) == 1:
                return raw(asaas_errors(("internal_error", "Erro interno")), 500)
            return raw(payment(billingType="CREDIT_CARD"))
        return listing([payment(pid="pay_old", deleted=True)])  # a deleted one does not count

    result = client_with(handler, attempts=3).create_charge(spec("CREDIT_CARD"), "cus_1")
    assert result.provider_charge_id == "pay_abc123"
    assert len(posts) == 2 and posts[0] == posts[1]


def timing_out_post(lookup: Handler) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("timed out", request=request)
        return lookup(request)

    return handler


def test_a_create_that_timed_out_but_succeeded_is_returned_not_repeated() -> None:
    result = client_with(timing_out_post(lambda r: listing([payment(billingType="CREDIT_CARD")])), attempts=3)
    charge = result.create_charge(spec("CREDIT_CARD"), "cus_1")
    assert (charge.provider_charge_id, charge.status, charge.amount_cents) == ("pay_abc123", "PENDING", 1234567)


def test_a_create_that_timed_out_and_is_not_found_tells_the_caller_failover_is_safe() -> None:
    client = client_with(timing_out_post(lambda r: listing([])), attempts=3)
    with pytest.raises(ProviderUnavailableError) as info:
        client.create_charge(spec("CREDIT_CARD"), "cus_1")
    assert info.value.code == "read_timeout"
    assert info.value.details == {"charge_lookup": "not_found"}


def test_a_create_whose_outcome_is_unknown_says_so() -> None:
    client = client_with(timing_out_post(lambda r: raw(asaas_errors(("x", "Erro")), 503)))
    with pytest.raises(ProviderUnavailableError) as info:
        client.create_charge(spec("CREDIT_CARD"), "cus_1")
    assert info.value.details == {"charge_lookup": "failed"}


def test_find_charge_by_external_reference_ignores_deleted_ones() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/identificationField"):
            return raw({"identificationField": "4619"})
        return listing([payment(pid="pay_gone", deleted=True), payment(status="RECEIVED", value=100)])

    found = client_with(handler).find_charge("ch123")
    assert found is not None
    assert (found.provider_charge_id, found.status, found.amount_cents) == ("pay_abc123", "RECEIVED", 10000)
    assert found.boleto_digitable_line == "4619"
    assert dict(seen[0].url.params) == {"externalReference": "ch123", "limit": "100"}

    assert client_with(lambda r: listing([payment(deleted=True)])).find_charge("ch123") is None
    assert client_with(lambda r: listing([])).find_charge("ch123") is None


# ----- customers -----------------------------------------------------------------------------------


def test_ensure_customer_reuses_an_existing_customer() -> None:
    seen, handler = recording(
        listing(
            [
                {"id": "cus_deleted", "cpfCnpj": "12345678909", "deleted": True, "externalReference": "c1"},
                {"id": "cus_other", "cpfCnpj": "12345678909", "deleted": False, "externalReference": None},
                {"id": "cus_ours", "cpfCnpj": "12345678909", "deleted": False, "externalReference": "c1"},
            ]
        )
    )

    found = client_with(handler).ensure_customer(CUSTOMER)
    assert (found.customer_id, found.created) == ("cus_ours", False)
    assert [r.method for r in seen] == ["GET"]
    assert dict(seen[0].url.params) == {"cpfCnpj": "12345678909", "limit": "100"}


def test_ensure_customer_creates_when_absent() -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return listing([])
        bodies.append(json.loads(request.content))
        return raw({"object": "customer", "id": "cus_000005219613"})

    created = client_with(handler).ensure_customer(CUSTOMER)
    assert (created.provider, created.customer_id, created.created) == ("asaas", "cus_000005219613", True)
    assert bodies == [
        {
            "name": "Maria Souza",
            "cpfCnpj": "12345678909",
            "email": "maria@example.com",
            "mobilePhone": "11987654321",
            "externalReference": "c1",
        }
    ]


def test_alphanumeric_cnpj_is_sent_as_is() -> None:
    bodies, handler = recording_json(raw({"id": "cus_1"}))

    company = Customer(name="ABC Ltda", tax_id="12ABC34501DE35", phone="+14155550100")
    client_with(handler).create_customer(company)
    assert bodies == [{"name": "ABC Ltda", "cpfCnpj": "12ABC34501DE35"}]  # foreign phone not sent


# ----- errors --------------------------------------------------------------------------------------


def test_a_400_names_asaas_descriptions() -> None:
    body = asaas_errors(
        ("invalid_value", "O campo value deve ser informado"),
        ("invalid_dueDate", "A data de vencimento não pode ser inferior à hoje"),
    )
    with pytest.raises(InvalidRequestError) as info:
        client_with(lambda r: raw(body, 400)).create_charge(spec(), "cus_1")
    assert info.value.code == "invalid_value"
    assert info.value.http_status == 400
    assert "O campo value deve ser informado; A data de vencimento não pode ser inferior à hoje" in info.value.message


def test_401_is_an_authentication_error() -> None:
    body = asaas_errors(("invalid_access_token", "A chave de API fornecida é inválida"))
    with pytest.raises(AuthenticationError) as info:
        client_with(lambda r: raw(body, 401)).health_check()
    assert info.value.code == "invalid_access_token"
    assert KEY not in str(info.value.to_dict())
    with pytest.raises(AuthenticationError):
        client_with(lambda r: httpx.Response(401)).health_check()  # Asaas may answer with no body


def test_429_waits_for_ratelimit_reset() -> None:
    headers = {"RateLimit-Limit": "100", "RateLimit-Remaining": "0", "RateLimit-Reset": "30"}
    with pytest.raises(RateLimitedError) as info:
        client_with(lambda r: raw(asaas_errors(("rate_limit", "Too many")), 429, headers)).health_check()
    assert info.value.retry_after == 30
    assert info.value.details == {"limit": "100", "remaining": "0", "reset": "30"}

    with pytest.raises(RateLimitedError) as quota:  # the 12-hour quota: no reset header
        client_with(lambda r: httpx.Response(429)).health_check()
    assert quota.value.retry_after == 60


def test_5xx_is_unavailable_and_a_refund_is_never_retried() -> None:
    posts, handler = recording(raw(asaas_errors(("internal_error", "Erro")), 500))

    with pytest.raises(ProviderUnavailableError):
        client_with(handler, attempts=3).refund("pay_abc123", 1000, "Desconto")
    assert len(posts) == 1


# ----- refunds, links, subscriptions, transfers ----------------------------------------------------


def test_partial_and_full_refunds() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        assert request.url.path == "/v3/payments/pay_abc123/refund"
        partial = b"value" in request.content
        return raw(payment(status="RECEIVED" if partial else "REFUNDED", value=100))

    client = client_with(handler)
    partial = client.refund("pay_abc123", 1050, "Ajuste")
    full = client.refund("pay_abc123")
    assert bodies == [b'{"value":10.50,"description":"Ajuste"}', b"{}"]
    assert (partial.refunded_cents, partial.status) == (1050, "RECEIVED")
    assert (full.refunded_cents, full.status) == (10000, "REFUNDED")
    with pytest.raises(InvalidRequestError):
        client.refund("pay_abc123", 0)


def test_payment_link_and_subscription_requests() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/paymentLinks"):
            return raw({"id": "725104409743", "url": "https://sandbox.asaas.com/c/725104409743", "active": True})
        if request.method == "DELETE":
            return raw({"deleted": True, "id": "sub_VXJBYgP2u0eO"})
        return raw(
            {
                "object": "subscription",
                "id": "sub_VXJBYgP2u0eO",
                "status": "ACTIVE",
                "value": 19.9,
                "customer": "cus_1",
                "cycle": "MONTHLY",
                "nextDueDate": "2030-02-01",
            }
        )

    client = client_with(handler)
    link = client.create_payment_link(
        name="Ensaio", billing_type="UNDEFINED", amount_cents=5000, due_date_limit_days=10, external_reference="l1"
    )
    sub = client.create_subscription(
        "cus_1", billing_type="BOLETO", amount_cents=1990, next_due_date=date(2030, 2, 1), description="Plano Pró"
    )
    assert client.cancel_subscription("sub_VXJBYgP2u0eO") is True

    assert (link.link_id, link.url, link.active) == ("725104409743", "https://sandbox.asaas.com/c/725104409743", True)
    assert (sub.subscription_id, sub.status, sub.amount_cents, sub.cycle) == (
        "sub_VXJBYgP2u0eO",
        "ACTIVE",
        1990,
        "MONTHLY",
    )
    assert seen[0].content == (
        b'{"name":"Ensaio","billingType":"UNDEFINED","chargeType":"DETACHED","value":50.00,'
        b'"dueDateLimitDays":10,"externalReference":"l1"}'
    )
    assert seen[1].content == (
        b'{"customer":"cus_1","billingType":"BOLETO","value":19.90,"nextDueDate":"2030-02-01",'
        b'"cycle":"MONTHLY","description":"Plano Pr\xc3\xb3"}'
    )
    assert (seen[2].method, seen[2].url.path) == ("DELETE", "/v3/subscriptions/sub_VXJBYgP2u0eO")

    with pytest.raises(InvalidRequestError):  # a boleto link needs the payment window
        client.create_payment_link(name="x", billing_type="BOLETO")
    with pytest.raises(InvalidRequestError):
        client.create_payment_link(name="x", billing_type="PIX", charge_type="RECURRENT")
    assert len(seen) == 3


def test_transfers_to_a_pix_key_or_a_bank_account() -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content, parse_float=Decimal))
        return raw(
            {
                "object": "transfer",
                "id": "b8b9c0e2-0000",
                "status": "PENDING",
                "value": 1000.01,
                "transferFee": 0,
                "operationType": "PIX",
            }
        )

    client = client_with(handler)
    sent = client.create_transfer(100001, pix_key="09493012301", pix_key_type="CPF", description="Repasse")
    account = BankAccount(
        bank_code="237",
        owner_name="Marcelo Almeida",
        tax_id="52233424611",
        agency="1263",
        account="9999991",
        account_digit="1",
    )
    client.create_transfer(100001, bank_account=account, operation_type="TED")
    assert (sent.transfer_id, sent.status, sent.amount_cents, sent.fee_cents) == ("b8b9c0e2-0000", "PENDING", 100001, 0)
    assert bodies[0] == {
        "value": Decimal("1000.01"),
        "pixAddressKey": "09493012301",
        "pixAddressKeyType": "CPF",
        "description": "Repasse",
    }
    assert bodies[1] == {
        "value": Decimal("1000.01"),
        "bankAccount": {
            "bank": {"code": "237"},
            "ownerName": "Marcelo Almeida",
            "cpfCnpj": "52233424611",
            "agency": "1263",
            "account": "9999991",
            "accountDigit": "1",
            "bankAccountType": "CONTA_CORRENTE",
        },
        "operationType": "TED",
    }
    with pytest.raises(InvalidRequestError):
        client.create_transfer(100, pix_key="x", pix_key_type="EVP", bank_account=account)
    with pytest.raises(InvalidRequestError):
        client.create_transfer(100)
    assert len(bodies) == 2


# ----- statement -----------------------------------------------------------------------------------


def test_financial_transactions_follow_every_page_with_signed_exact_cents() -> None:
    offsets: list[dict[str, str]] = []

    def line(n: int) -> str:
        return (
            f'{{"object":"financialTransaction","id":"ft_{n}","value":{"-" if n % 2 else ""}{n}.{n % 100:02d},'
            f'"balance":1000{n}.10,"type":"{"PAYMENT_FEE" if n % 2 else "PAYMENT_RECEIVED"}",'
            f'"date":"2030-01-{1 + n % 28:02d}","description":"linha {n}","paymentId":"pay_{n}"}}'
        )

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        offsets.append(params)
        start = int(params["offset"])
        count = 5 if start == 200 else 100
        items = ",".join(line(n) for n in range(start, start + count))
        return raw(
            f'{{"object":"list","hasMore":{"false" if start == 200 else "true"},"totalCount":205,'
            f'"limit":100,"offset":{start},"data":[{items}]}}'
        )

    lines = list(client_with(handler).list_financial_transactions(date(2030, 1, 1), date(2030, 1, 31)))
    assert [p["offset"] for p in offsets] == ["0", "100", "200"]
    assert offsets[0] == {"startDate": "2030-01-01", "finishDate": "2030-01-31", "offset": "0", "limit": "100"}
    assert len(lines) == 205 and len({t.id for t in lines}) == 205
    assert lines[0].model_dump() == {
        "id": "ft_0",
        "value_cents": 0,
        "balance_cents": 1000010,
        "type": "PAYMENT_RECEIVED",
        "date": date(2030, 1, 1),
        "payment_id": "pay_0",
        "description": "linha 0",
    }
    assert (lines[201].value_cents, lines[201].type) == (-20101, "PAYMENT_FEE")
    assert (lines[202].value_cents, lines[202].balance_cents) == (20202, 100020210)


def test_an_endless_statement_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return listing([], has_more=True)

    with pytest.raises(ProviderUnavailableError):
        list(client_with(handler).list_financial_transactions(date(2030, 1, 1), date(2030, 1, 2)))
    with pytest.raises(InvalidRequestError):
        list(client_with(handler).list_financial_transactions(date(2030, 1, 2), date(2030, 1, 1)))


def test_credentials_model_keeps_the_key_secret() -> None:
    creds = AsaasCredentials(api_key=SecretStr(KEY))
    assert creds.environment == "production"
    assert KEY not in str(creds.model_dump())


@pytest.mark.parametrize(
    ("phone", "fields"),
    [
        ("+5511987654321", {"mobilePhone": "11987654321"}),
        # A landline is Asaas's `phone` ("Fone fixo"): as mobilePhone Asaas refuses it.
        ("+551133334444", {"phone": "1133334444"}),
        ("+5555991234567", {"mobilePhone": "55991234567"}),  # DDD 55
        ("+5508001234567", {}),  # no DDD
    ],
)
def test_customer_phone_goes_to_the_field_of_its_type(phone: str, fields: dict[str, str]) -> None:
    bodies, handler = recording_json(raw({"id": "cus_1"}))

    client_with(handler).create_customer(Customer(name="ABC Ltda", tax_id="12345678000195", phone=phone))
    assert bodies == [{"name": "ABC Ltda", "cpfCnpj": "12345678000195", **fields}]
