"""Reconciliation matching: each kind of mismatch, and clean days finding none."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hub.payments.reconciliation import match_asaas, match_bank
from hub.payments.store import ChargeRecord
from hub.providers.asaas.client import FinancialTransaction
from hub.providers.pluggy.client import BankTransaction

DAY = date(2026, 11, 22)


def tx(id_: str, cents: int, type_: str = "PAYMENT_RECEIVED", payment: str | None = None, day: date = DAY) -> Any:
    return FinancialTransaction(id=id_, value_cents=cents, type=type_, date=day, payment_id=payment)


def charge(charge_id: str, payment: str, cents: int, status: str = "RECEIVED") -> ChargeRecord:
    return ChargeRecord(
        org_id="demo",
        charge_id=charge_id,
        status=status,  # type: ignore[arg-type]
        amount_cents=cents,
        provider="asaas",
        provider_charge_id=payment,
        paid_at=datetime(2026, 11, 22, 15, 0, tzinfo=UTC),
    )


def test_a_clean_day_has_no_mismatch() -> None:
    found = match_asaas(
        [tx("ft1", 350000, payment="pay_1"), tx("ft2", -199, "PAYMENT_FEE", "pay_1")],
        [charge("C1", "pay_1", 350000)],
        DAY,
        DAY,
    )
    assert found == []


def test_each_kind_of_mismatch_is_found() -> None:
    found = match_asaas(
        [
            tx("ft1", 10000, payment="pay_unknown"),  # money without a charge
            tx("ft2", 34999, payment="pay_2"),  # one centavo short
        ],
        [
            charge("C2", "pay_2", 35000),
            charge("C3", "pay_3", 5000),  # marked paid, no money
            charge("C4", "pay_4", 5000, status="PENDING"),  # not paid: not expected
        ],
        DAY,
        DAY,
    )
    kinds = {(m.kind, m.charge_id or m.provider_charge_id) for m in found}
    assert kinds == {
        ("money_without_charge", "pay_unknown"),
        ("amount_mismatch", "C2"),
        ("paid_without_money", "C3"),
    }
    short = next(m for m in found if m.kind == "amount_mismatch")
    assert (short.expected_cents, short.actual_cents) == (35000, 34999)


def Credit(id_: str, cents: int, day: date, description: str = "TED ASAAS IP S.A.") -> BankTransaction:
    return BankTransaction(transaction_id=id_, amount_cents=cents, date=day, description=description, type="CREDIT")


def test_transfers_must_reach_the_bank_within_two_days() -> None:
    transfers = [tx("tr1", -100000, "TRANSFER", day=DAY), tx("tr2", -5000, "TRANSFER", day=DAY)]
    credits = [Credit("b1", 100000, date(2026, 11, 24)), Credit("b2", 777, DAY)]
    found = match_bank(transfers, credits)
    assert {(m.kind, m.transaction_id) for m in found} == {
        ("transfer_not_in_bank", "tr2"),
        ("bank_credit_without_transfer", "b2"),
    }
    late = match_bank([tx("tr3", -100000, "TRANSFER", day=DAY)], [Credit("b3", 100000, date(2026, 11, 25))])
    assert [m.kind for m in late] == ["transfer_not_in_bank", "bank_credit_without_transfer"]
