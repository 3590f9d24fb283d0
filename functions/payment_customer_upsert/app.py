"""PaymentCustomerUpsert — the Asaas customer for a CPF/CNPJ: found (Asaas allows duplicates) or created.

Payload: {"org_id", "name", "cpf_cnpj" (CPF, CNPJ or alphanumeric CNPJ), "email"?, "phone"?, "external_reference"?}
Result:  {"provider": "asaas", "customer_id", "created", "tax_id" (normalised, 11 or 14 characters)}
"""

from hub.invocation import operation_handler
from hub.payments.charges import CustomerUpsertRequest, upsert_customer

handler = operation_handler("payments.customer_upsert", CustomerUpsertRequest, upsert_customer)
