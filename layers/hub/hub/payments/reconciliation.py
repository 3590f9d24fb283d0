"""Daily reconciliation: the money the providers report against the charges the hub holds.

Asaas: ``/financialTransactions`` for the period, matched against the payments table:
* ``money_without_charge`` — a ``PAYMENT_RECEIVED`` credit for a payment the hub never
  created (or created under another id);
* ``paid_without_money`` — a charge the hub marked RECEIVED in the period with no credit;
* ``amount_mismatch`` — a credit whose value differs from the charge's amount.
The payout bank account (Open Finance through an aggregator, Pluggy): every Asaas
``TRANSFER`` debit must arrive as a bank credit of the same amount within two days
(``transfer_not_in_bank``), and every bank credit from Asaas must match a transfer
(``bank_credit_without_transfer``). Direct Open Finance access is only for Central
Bank-authorised institutions, hence the aggregator.

Each mismatch is one ``reconciliation.mismatch`` event and one line of a CSV report in the
exports bucket (``{org}/reconciliation/{date}.csv``); ``reconciliation.completed`` sums up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.aws import aws_client
from hub.brasilia import BRASILIA
from hub.bus import put_events
from hub.config import get_settings
from hub.credentials import validate_org_id
from hub.errors import AuthenticationError
from hub.observability import logger
from hub.payments import store
from hub.providers import ports
from hub.providers.asaas.client import FinancialTransaction
from hub.providers.pluggy.client import BankTransaction
from hub.requests import OperationRequest, OrgId
from hub.storage import ObjectStorage

# Whose statement is reconciled against the charges, and who reads the payout bank account.
LEDGER_PROVIDER = "asaas"
BANK_PROVIDER = "pluggy"
MismatchKind = Literal[
    "money_without_charge",
    "paid_without_money",
    "amount_mismatch",
    "transfer_not_in_bank",
    "bank_credit_without_transfer",
]
TRANSFER_SETTLEMENT_DAYS = 2


class Mismatch(BaseModel):
    kind: MismatchKind
    charge_id: str | None = None
    provider_charge_id: str | None = None
    transaction_id: str | None = None
    expected_cents: int | None = None
    actual_cents: int | None = None
    day: date | None = None
    description: str | None = None


class ReconciliationRequest(OperationRequest):
    org_id: OrgId | None = Field(None, description="default: every org with Asaas credentials")
    start: date | None = Field(None, description="default: yesterday (Brasília)")
    end: date | None = None


class ReconciliationReport(BaseModel):
    org_id: str
    start: date
    end: date
    transactions: int
    charges: int
    mismatches: list[Mismatch]
    report_key: str | None = None
    bank_checked: bool = False


def _received(kind: MismatchKind, tx: FinancialTransaction, **fields: Any) -> Mismatch:
    """A mismatch at one Asaas statement line of money received for a charge."""
    return Mismatch(
        kind=kind,
        provider_charge_id=tx.payment_id,
        transaction_id=tx.id,
        actual_cents=tx.value_cents,
        day=tx.date,
        **fields,
    )


def match_asaas(
    transactions: Iterable[FinancialTransaction], charges: Iterable[store.ChargeRecord], start: date, end: date
) -> list[Mismatch]:
    by_payment = {c.provider_charge_id: c for c in charges if c.provider == "asaas" and c.provider_charge_id}
    credited: set[str] = set()
    found: list[Mismatch] = []
    for tx in transactions:
        if tx.type != "PAYMENT_RECEIVED":
            continue
        charge = by_payment.get(tx.payment_id or "")
        if charge is None:
            found.append(_received("money_without_charge", tx, description=tx.description))
            continue
        credited.add(charge.charge_id)
        if tx.value_cents != charge.amount_cents:
            found.append(
                _received("amount_mismatch", tx, charge_id=charge.charge_id, expected_cents=charge.amount_cents)
            )
    for charge in by_payment.values():
        paid_on = charge.paid_at.astimezone(BRASILIA).date() if charge.paid_at else None
        if charge.status == "RECEIVED" and paid_on and start <= paid_on <= end and charge.charge_id not in credited:
            found.append(
                Mismatch(
                    kind="paid_without_money",
                    charge_id=charge.charge_id,
                    provider_charge_id=charge.provider_charge_id,
                    expected_cents=charge.amount_cents,
                    day=paid_on,
                )
            )
    return found


def match_bank(transfers: list[FinancialTransaction], bank_credits: list[BankTransaction]) -> list[Mismatch]:
    """Asaas TRANSFER debits against the payout account's credits: same amount, within
    TRANSFER_SETTLEMENT_DAYS. Each bank credit matches at most one transfer."""
    unmatched = list(bank_credits)
    found: list[Mismatch] = []
    for transfer in transfers:
        amount = -transfer.value_cents
        match = next(
            (
                credit
                for credit in unmatched
                if credit.amount_cents == amount
                and timedelta(0) <= credit.date - transfer.date <= timedelta(days=TRANSFER_SETTLEMENT_DAYS)
            ),
            None,
        )
        if match is None:
            found.append(
                Mismatch(
                    kind="transfer_not_in_bank",
                    transaction_id=transfer.id,
                    expected_cents=amount,
                    day=transfer.date,
                    description=transfer.description,
                )
            )
        else:
            unmatched.remove(match)
    for credit in unmatched:
        if "asaas" in (credit.description or "").lower():
            found.append(
                Mismatch(
                    kind="bank_credit_without_transfer",
                    transaction_id=credit.transaction_id,
                    actual_cents=credit.amount_cents,
                    day=credit.date,
                    description=credit.description,
                )
            )
    return found


def _bank_credits(org_id: str, start: date, end: date) -> list[BankTransaction] | None:
    """The payout account's credits, or None when the org has no aggregator connection."""
    try:
        client = ports.for_org(ports.BankStatements, org_id, BANK_PROVIDER)
    except AuthenticationError:
        return None
    return [t for t in client.list_transactions(start, end) if t.amount_cents > 0]


def write_report(org_id: str, end: date, mismatches: list[Mismatch]) -> str:
    buffer = io.StringIO()
    fields = list(Mismatch.model_fields)
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for mismatch in mismatches:
        writer.writerow(mismatch.model_dump(mode="json"))
    key = f"{org_id}/reconciliation/{end.isoformat()}.csv"
    ObjectStorage().put_bytes(
        get_settings().require("exports_bucket"), key, buffer.getvalue().encode("utf-8"), content_type="text/csv"
    )
    return key


def _publish(entries: list[dict[str, Any]]) -> None:
    put_events((entry["type"], entry["detail"]) for entry in entries)


def reconcile_org(org_id: str, start: date, end: date) -> ReconciliationReport:
    validate_org_id(org_id)
    asaas = ports.for_org(ports.PaymentLedger, org_id, LEDGER_PROVIDER)
    # A credit can land a couple of days after the payment: read a little past the period.
    transactions = list(asaas.list_financial_transactions(start, end))
    charges = store.iter_charges(org_id)
    mismatches = match_asaas(transactions, charges, start, end)
    bank = _bank_credits(org_id, start, end + timedelta(days=TRANSFER_SETTLEMENT_DAYS))
    if bank is not None:
        transfers = [t for t in transactions if t.type == "TRANSFER"]
        mismatches += match_bank(transfers, bank)
    key = write_report(org_id, end, mismatches)
    entries = [
        {"type": "reconciliation.mismatch", "detail": {"org_id": org_id, **m.model_dump(mode="json")}}
        for m in mismatches
    ]
    entries.append(
        {
            "type": "reconciliation.completed",
            "detail": {
                "org_id": org_id,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "mismatches": len(mismatches),
                "report": key,
            },
        }
    )
    _publish(entries)
    logger.info("reconciliation_done", extra={"org_id": org_id, "mismatches": len(mismatches)})
    return ReconciliationReport(
        org_id=org_id,
        start=start,
        end=end,
        transactions=len(transactions),
        charges=len(charges),
        mismatches=mismatches,
        report_key=key,
        bank_checked=bank is not None,
    )


def orgs_with(provider: str) -> list[str]:
    """Orgs that have a ``{prefix}/{org}/{provider}`` secret (one paginated ListSecrets)."""
    prefix = f"{get_settings().secrets_prefix}/"
    paginator = aws_client("secretsmanager").get_paginator("list_secrets")
    orgs: set[str] = set()
    for page in paginator.paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
        for entry in page.get("SecretList", []):
            parts = str(entry.get("Name", ""))[len(prefix) :].split("/")
            if len(parts) == 2 and parts[1] == provider:
                orgs.add(parts[0])
    return sorted(orgs)


class ReconciliationRun(BaseModel):
    reports: list[ReconciliationReport]
    failed: dict[str, str] = Field(default_factory=dict)


def reconcile(request: ReconciliationRequest) -> ReconciliationRun:
    yesterday = datetime.now(UTC).astimezone(BRASILIA).date() - timedelta(days=1)
    start, end = request.start or yesterday, request.end or request.start or yesterday
    orgs = [request.org_id] if request.org_id else orgs_with(LEDGER_PROVIDER)
    run = ReconciliationRun(reports=[])
    for org_id in orgs:
        try:
            run.reports.append(reconcile_org(org_id, start, end))
        except Exception as exc:  # noqa: BLE001 - one org's failure must not hide the others'
            logger.exception("reconciliation_failed", extra={"org_id": org_id})
            run.failed[org_id] = f"{type(exc).__name__}: {str(exc)[:200]}"
    if run.failed:
        _publish(
            [
                {"type": "reconciliation.failed", "detail": {"org_id": org, "error": error, "end": end.isoformat()}}
                for org, error in run.failed.items()
            ]
        )
    return run
