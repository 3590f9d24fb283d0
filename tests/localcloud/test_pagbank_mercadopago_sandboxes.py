"""The PagBank (/pagbank) and Mercado Pago (/mercadopago) sandboxes: their HTTP contracts,
and the adapters driven against them (idempotency, lookups, refunds, errors, faults)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.payments.models import ChargeSpec, Customer
from hub.providers.mercadopago.client import MercadoPagoClient
from hub.providers.pagbank.client import PagBankAddress, PagBankClient
from hub.retry import RetryPolicy
from localcloud.sandboxes.mercadopago import DEMO_ACCESS_TOKEN, MercadoPagoSandbox
from localcloud.sandboxes.pagbank import DECLINED_BOLETO_CENTS, DEMO_TOKEN, PagBankSandbox, crc16_ccitt
from localcloud.servers import ServerThread
from tests.conftest import ServedSandboxes

NO_SLEEP = RetryPolicy(sleep=lambda _: None)
CUSTOMER = Customer(name="Jose da Silva", tax_id="12345678909", email="jose@example.com", phone="+5511987654321")
ADDRESS = PagBankAddress(
    street="Rua Doutor Antonio Bento",
    number="123",
    locality="Santo Amaro",
    city="São Paulo",
    region_code="SP",
    postal_code="04750001",
)

Served = tuple[PagBankSandbox, MercadoPagoSandbox, str]


@pytest.fixture
def served(sandboxes: ServedSandboxes) -> Served:
    return sandboxes["pagbank"], sandboxes["mercadopago"], sandboxes.url


@pytest.fixture
def url(served: Served) -> str:
    return served[2]  # both sandboxes and their faults are reset around every test


def pagbank(url: str, token: str = DEMO_TOKEN, attempts: int = 3) -> PagBankClient:
    creds = PagBankClient.parse_credentials({"base_url": f"{url}/pagbank", "token": token, "environment": "sandbox"})
    return PagBankClient(creds, retry_policy=RetryPolicy(max_attempts=attempts, sleep=lambda _: None))


def mercadopago(url: str, token: str = DEMO_ACCESS_TOKEN) -> MercadoPagoClient:
    creds = MercadoPagoClient.parse_credentials({"base_url": f"{url}/mercadopago", "access_token": token})
    return MercadoPagoClient(creds, retry_policy=NO_SLEEP)


def spec(billing_type: str = "PIX", amount_cents: int = 1999, charge_id: str = "ch123") -> ChargeSpec:
    return ChargeSpec(
        charge_id=charge_id,
        customer=CUSTOMER,
        billing_type=billing_type,  # type: ignore[arg-type]
        amount_cents=amount_cents,
        due_date=date(2026, 11, 30),
        description="Plano mensal",
    )


def requests_to(url: str, provider: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{url}/__sandbox/requests", params={"provider": provider}).json())


# ----- PagBank ---------------------------------------------------------------------------------


def test_pagbank_pix_order_has_a_valid_br_code(url: str, served: Served) -> None:
    result = pagbank(url).create_charge(spec())

    assert result.provider == "pagbank"
    assert result.provider_charge_id.startswith("ORDE_")
    assert result.amount_cents == 1999
    payload = result.pix_payload
    assert payload is not None and payload.startswith("000201")
    assert "540519.99" in payload  # the amount in reais inside the BR Code
    assert payload[-4:] == crc16_ccitt(payload[:-4].encode())
    assert result.payment_url is not None and result.payment_url.endswith("/png")
    [logged] = requests_to(url, "pagbank")
    assert logged["headers"]["X-Idempotency-Key"] == "ch123"
    assert logged["json"]["qr_codes"][0]["amount"] == {"value": 1999}


def test_pagbank_same_charge_twice_is_one_order(url: str, served: Served) -> None:
    client = pagbank(url)
    first = client.create_charge(spec())
    second = client.create_charge(spec())
    assert first.provider_charge_id == second.provider_charge_id
    assert len(served[0].orders) == 1
    # The order is found again by its id, and is ours.
    found = client.find_charge("ch123", order_id=first.provider_charge_id)
    assert found is not None and found.pix_payload == first.pix_payload


def test_pagbank_a_failed_then_replayed_create_is_one_order(url: str, served: Served) -> None:
    # The first attempt is answered 503; the retry (same key) creates the order; replaying the
    # whole create later (e.g. after a timeout) answers the same order instead of a second one.
    httpx.put(f"{url}/__sandbox/faults/pagbank", json={"mode": "error", "status": 503, "times": 1})
    client = pagbank(url)
    first = client.create_charge(spec())
    again = client.create_charge(spec())
    assert first.provider_charge_id == again.provider_charge_id
    assert len(served[0].orders) == 1
    keys = {r["headers"]["X-Idempotency-Key"] for r in requests_to(url, "pagbank")}
    assert keys == {"ch123"}


def test_pagbank_a_create_that_timed_out_but_succeeded_is_recovered_not_duplicated(
    url: str, served: Served, wait_until: Any
) -> None:
    httpx.put(f"{url}/__sandbox/faults/pagbank", json={"mode": "slow", "delay_seconds": 1.0, "times": 1})
    creds = PagBankClient.parse_credentials({"base_url": f"{url}/pagbank", "token": DEMO_TOKEN})
    impatient = PagBankClient(creds, http=httpx.Client(timeout=0.3), retry_policy=NO_SLEEP)
    with pytest.raises(ProviderUnavailableError) as info:
        impatient.create_charge(spec())
    assert info.value.code == "read_timeout"
    wait_until(lambda: served[0].orders, timeout=5)  # PagBank created it after all

    recovered = pagbank(url).create_charge(spec())  # the replay is the lookup by key

    [order_id] = served[0].orders
    assert recovered.provider_charge_id == order_id


def test_pagbank_boleto_has_a_digitable_line_and_pdf(url: str) -> None:
    result = pagbank(url).create_charge(spec("BOLETO", 34343), billing_address=ADDRESS)
    assert result.status == "WAITING"
    assert result.boleto_digitable_line is not None and result.boleto_digitable_line.endswith("00000000034343")
    assert result.boleto_url is not None and result.boleto_url.endswith(".pdf")


def test_pagbank_declined_boleto(url: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        pagbank(url).create_charge(spec("BOLETO", DECLINED_BOLETO_CENTS), billing_address=ADDRESS)
    assert info.value.code == "charge_declined"


def test_pagbank_boleto_without_holder_address_is_a_documented_error(url: str) -> None:
    body = {
        "reference_id": "x1",
        "customer": {"name": "Jose", "tax_id": "12345678909"},
        "items": [{"name": "Item", "quantity": 1, "unit_amount": 500}],
        "charges": [
            {
                "amount": {"value": 500, "currency": "BRL"},
                "payment_method": {
                    "type": "BOLETO",
                    "boleto": {
                        "due_date": "2026-12-01",
                        "holder": {"name": "Jose", "tax_id": "12345678909", "email": "jose@example.com"},
                    },
                },
            }
        ],
    }
    resp = httpx.post(f"{url}/pagbank/orders", json=body, headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
    assert resp.status_code == 400
    [error] = resp.json()["error_messages"]
    assert error["code"] == "40001"
    assert error["parameter_name"] == "charges[0].payment_method.boleto.holder.address.street"


def _boleto_body(address: dict[str, Any]) -> dict[str, Any]:
    holder = {"name": "Jose", "tax_id": "12345678909", "email": "jose@example.com", "address": address}
    return {
        "reference_id": "x2",
        "customer": {"name": "Jose", "tax_id": "12345678909"},
        "items": [{"name": "Item", "quantity": 1, "unit_amount": 500}],
        "charges": [
            {
                "amount": {"value": 500, "currency": "BRL"},
                "payment_method": {"type": "BOLETO", "boleto": {"due_date": "2026-12-01", "holder": holder}},
            }
        ],
    }


def test_pagbank_boleto_holder_address_needs_the_region(url: str) -> None:
    # PagBank's plugin sends region on every address and its notification example carries it.
    address = ADDRESS.payload()
    del address["region"]
    resp = httpx.post(
        f"{url}/pagbank/orders", json=_boleto_body(address), headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
    )
    assert resp.status_code == 400
    [error] = resp.json()["error_messages"]
    assert error["parameter_name"] == "charges[0].payment_method.boleto.holder.address.region"
    with_region = httpx.post(
        f"{url}/pagbank/orders", json=_boleto_body(ADDRESS.payload()), headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
    )
    assert with_region.status_code == 201


class _Receiver:
    """A stand-in for the hub's receiver: records what PagBank's notification looked like."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.calls.append((headers, environ["wsgi.input"].read(length)))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]


def test_pagbank_pays_an_order_and_notifies_it_signed_as_pagbank_does(url: str) -> None:
    import hashlib

    receiver = _Receiver()
    server = ServerThread("receiver", receiver, "127.0.0.1", 0)
    server.start()
    try:
        order = httpx.post(
            f"{url}/pagbank/orders",
            json={
                "reference_id": "ch-paid",
                "customer": {"name": "Jose", "tax_id": "12345678909"},
                "items": [{"name": "Item", "quantity": 1, "unit_amount": 1999}],
                "qr_codes": [{"amount": {"value": 1999}}],
                "notification_urls": [f"{server.url}/webhooks/pagbank/demo"],
            },
            headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        ).json()
        paid = httpx.post(f"{url}/pagbank/__control/orders/{order['id']}/pay", json={}).json()
    finally:
        server.stop()
    assert paid["notifications"] == [{"url": f"{server.url}/webhooks/pagbank/demo", "status": 200}]
    [(headers, body)] = receiver.calls
    expected = hashlib.sha256(DEMO_TOKEN.encode() + b"-" + body).hexdigest()
    assert headers["x-authenticity-token"] == expected
    [charge] = json.loads(body)["charges"]
    assert charge["status"] == "PAID" and charge["amount"]["summary"]["paid"] == 1999
    assert charge["payment_method"]["type"] == "PIX" and charge["paid_at"]
    # The order as GET /orders answers it is paid too (the scheduled lookup reads it).
    looked_up = pagbank(url).get_order_payload(order["id"])
    assert looked_up is not None and looked_up["charges"][0]["status"] == "PAID"


def test_pagbank_pay_without_notifying_is_a_lost_notification(url: str) -> None:
    result = pagbank(url).create_charge(spec())
    paid = httpx.post(f"{url}/pagbank/__control/orders/{result.provider_charge_id}/pay", json={"notify": False})
    assert paid.json()["notifications"] == []
    again = httpx.post(f"{url}/pagbank/__control/orders/{result.provider_charge_id}/pay", json={})
    assert again.status_code == 400  # paid once


def test_pagbank_card_charge_is_a_checkout_link(url: str, served: Served) -> None:
    client = pagbank(url)
    result = client.create_charge(spec("CREDIT_CARD"))
    assert result.provider_charge_id.startswith("CHEC_")
    assert result.payment_url is not None and "pagamento" in result.payment_url
    assert client.create_charge(spec("CREDIT_CARD")).provider_charge_id == result.provider_charge_id
    assert len(served[0].checkouts) == 1


def test_pagbank_wrong_token_is_an_authentication_error(url: str) -> None:
    with pytest.raises(AuthenticationError):
        pagbank(url, token="wrong").create_charge(spec())


def test_pagbank_faults_in_its_error_shape(url: str) -> None:
    httpx.put(f"{url}/__sandbox/faults/pagbank", json={"mode": "rate_limited", "retry_after": 0, "times": 5})
    with pytest.raises(RateLimitedError):
        pagbank(url, attempts=1).create_charge(spec())
    httpx.put(f"{url}/__sandbox/faults/pagbank", json={"mode": "error", "status": 502, "times": 1})
    resp = httpx.get(f"{url}/pagbank/public-keys/card", headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
    assert resp.status_code == 502 and "error_messages" in resp.json()


def test_pagbank_health_check(url: str) -> None:
    pagbank(url).health_check()


# ----- Mercado Pago ----------------------------------------------------------------------------


def test_mercadopago_pix_payment_amounts_are_exact(url: str) -> None:
    result = mercadopago(url).create_pix_payment(spec(amount_cents=1999))
    assert result.amount_cents == 1999
    assert result.status == "pending"
    assert result.pix_payload is not None and "540519.99" in result.pix_payload
    assert result.pix_qr_png_base64 and result.payment_url
    [logged] = requests_to(url, "mercadopago")
    assert '"transaction_amount":19.99' in logged["body"]
    assert logged["headers"]["X-Idempotency-Key"] == "ch123"
    # The sandbox answers the amount as the same JSON number.
    raw = httpx.get(
        f"{url}/mercadopago/v1/payments/{result.provider_charge_id}",
        headers={"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"},
    )
    assert json.loads(raw.content, parse_float=Decimal)["transaction_amount"] == Decimal("19.99")


def test_mercadopago_same_key_is_one_payment(url: str, served: Served) -> None:
    client = mercadopago(url)
    first = client.create_pix_payment(spec())
    second = client.create_pix_payment(spec())
    assert first.provider_charge_id == second.provider_charge_id
    assert len(served[1].payments) == 1
    assert client.find_charge("ch123") == first
    assert client.find_charge("nothing") is None


def test_mercadopago_without_idempotency_key_is_refused(url: str, served: Served) -> None:
    body = {
        "transaction_amount": 10,
        "payment_method_id": "pix",
        "payer": {"email": "a@example.com"},
    }
    resp = httpx.post(
        f"{url}/mercadopago/v1/payments", json=body, headers={"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
    )
    assert resp.status_code == 400
    error = resp.json()
    assert error["status"] == 400 and error["error"] == "bad_request"
    assert error["cause"][0]["code"] == "empty_required_header"
    assert served[1].payments == {}


def test_mercadopago_refunds(url: str, served: Served) -> None:
    client = mercadopago(url)
    payment = client.create_pix_payment(spec(amount_cents=1999))
    with pytest.raises(InvalidRequestError):  # still pending: nothing to refund
        client.refund(payment.provider_charge_id, 500, idempotency_key="rf1")

    served[1].approve(int(payment.provider_charge_id))
    partial = client.refund(payment.provider_charge_id, 550, idempotency_key="rf1")
    replay = client.refund(payment.provider_charge_id, 550, idempotency_key="rf1")
    assert partial == replay and partial.refunded_cents == 550
    with pytest.raises(InvalidRequestError):  # more than what is left
        client.refund(payment.provider_charge_id, 1500, idempotency_key="rf2")
    rest = client.refund(payment.provider_charge_id, idempotency_key="rf3")
    assert rest.refunded_cents == 1449
    assert client.get_payment(payment.provider_charge_id).status == "refunded"
    assert len(served[1].payments[int(payment.provider_charge_id)]["refunds"]) == 2


def test_mercadopago_errors_in_its_format(url: str) -> None:
    with pytest.raises(AuthenticationError):
        mercadopago(url, token="wrong").create_pix_payment(spec())
    resp = httpx.post(
        f"{url}/mercadopago/v1/payments",
        json={
            "transaction_amount": 10,
            "payment_method_id": "pix",
            # 13 digits: not a CNPJ
            "payer": {"email": "x@example.com", "identification": {"type": "CNPJ", "number": "1234567890123"}},
        },
        headers={"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}", "X-Idempotency-Key": "k1"},
    )
    assert resp.status_code == 400 and resp.json()["cause"][0]["code"] == 2067
    httpx.put(f"{url}/__sandbox/faults/mercadopago", json={"mode": "error", "status": 503, "times": 3})
    with pytest.raises(ProviderUnavailableError):
        mercadopago(url).create_pix_payment(spec())


def test_mercadopago_health_check(url: str) -> None:
    mercadopago(url).health_check()
