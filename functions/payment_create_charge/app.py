"""PaymentCreateCharge — a charge through Asaas, else PagBank, else a manual PIX; never twice per charge_id.

Payload: {"org_id", "charge_id" (ours, 1-25 letters/digits), "customer": {"name", "cpf_cnpj", "email"?, "phone"?},
"billing_type": "BOLETO"|"PIX"|"CREDIT_CARD"|"UNDEFINED", "value_cents" (integer centavos) | "value" (reais string),
≤ the org's max_amount_cents (checked before the charge id is claimed), "due_date",
"description"?, "providers"?}
Result:  {"provider", "provider_charge_id", "charge_id", "status", "amount_cents", "payment_url"?,
"boleto_digitable_line"?, "boleto_url"?, "pix_payload"?, "pix_qr_png_base64"?, "failed_attempts", "duplicate"}
"""

from hub.invocation import operation_handler
from hub.payments.charges import ChargeRequest, create_charge

handler = operation_handler("payments.create_charge", ChargeRequest, create_charge)
