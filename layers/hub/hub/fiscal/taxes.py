"""What an NFS-e says about money: ISS, federal withholdings, net value and the 2026 IBS/CBS
test-year values, computed from the org's fiscal settings.

Table-driven and Decimal throughout; every amount is integer centavos and every rate a
Decimal percentage, rounded half-to-even to the centavo by :func:`hub.money.percent_of`
(ABNT NBR 5891). Each rule below names its source; the tables are the only place a rate or
threshold lives.

Rules
-----
ISS (municipal)
    ``base x rate``; the rate is the municipality's for the service, between 2 % (LC 116/2003
    art. 8-A, added by LC 157/2016) and 5 % (LC 116/2003 art. 8, II). It is withheld by the
    tomador only where the municipality makes the tomador responsible (LC 116/2003 art. 6 —
    the org's setting) and the tomador is a legal entity (art. 6 § 2, II names the
    *pessoa jurídica* tomadora); otherwise the prestador pays it and nothing is deducted.

IRRF 1.5 %
    On fees a legal entity pays another for professional services (Decreto-Lei 2.030/1983
    art. 2; RIR/2018 — Decreto 9.580/2018 — art. 714). Not withheld when the prestador is in
    the Simples Nacional (IN RFB 765/2007 art. 1). Dispensed when the tax withheld would be
    ≤ R$ 10.00, judged per payment (Lei 9.430/1996 art. 67).

PIS 0.65 % + COFINS 3.00 % + CSLL 1.00 % = 4.65 % (the "CSRF")
    On payments between legal entities for the services listed in Lei 10.833/2003 art. 30
    (cleaning, security, maintenance, credit/marketing advisory, professional services …)
    at the rates of art. 31 caput. Not withheld from Simples Nacional prestadores (Lei
    10.833/2003 art. 32, II; IN SRF 459/2004 art. 3, as amended by IN RFB 765/2007).
    Dispensed when the amount withheld (the three together, one DARF 5952) is ≤ R$ 10.00
    (art. 31 § 3 as worded by Lei 13.137/2015; the old R$ 5,000 per-payment threshold and the
    monthly aggregation of § 4 were revoked by the same law).

    Which of these withholdings a service attracts depends on the service (the org's
    ``federal_withholdings`` setting): software licensing, for instance, is in neither list.

Net value
    gross - unconditional discount - ISS withheld - IRRF - PIS - COFINS - CSLL.

The prestador's own PIS/COFINS (outside the Simples Nacional)
    Cumulative 0.65 % + 3 %, non-cumulative 1.65 % + 7.6 % of the base (``own_*`` below). Never
    withheld; the NFS-e declares them in ``vPis``/``vCofins`` (NT 007), apart from the withheld
    PIS + COFINS + CSLL (``vRetCSLL``).

IBS/CBS 2026 (tax-reform test year, informational, never deducted)
    CBS 0.9 % (LC 214/2025 art. 346) and IBS 0.1 %, all state, 0 % municipal (art. 343);
    not applied to Simples Nacional optantes (art. 348, III, c); payment dispensed for
    taxpayers who file the ancillary obligations (art. 348). Base = value of the operation
    less unconditional discounts, ISS and the prestador's own PIS/COFINS (art. 12 § 2,
    transition 2026-2032). Other years are not modelled: their values come back ``None``.

Out of scope (say so rather than guess): INSS retention on cessão de mão de obra (Lei
8.212/1991 art. 31), withholdings by federal public bodies (IN RFB 1.234/2012, other rates),
IRRF 1 % services (RIR/2018 art. 716), and tomadores that are immune/exempt entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.documents import TaxId, normalise_tax_id
from hub.errors import InvalidRequestError
from hub.money import percent_of

FederalWithholding = Literal["IRRF", "PIS", "COFINS", "CSLL"]
PisCofinsRegime = Literal["cumulativo", "nao_cumulativo"]

# Withheld amounts at or below this are not withheld (inclusive: "igual ou inferior").
DISPENSE_THRESHOLD_CENTS = 1000  # R$ 10.00


@dataclass(frozen=True)
class WithholdingRule:
    rate: Decimal  # percent
    source: str


# Rates of the federal withholdings on services, by tax.
WITHHOLDING_RULES: dict[FederalWithholding, WithholdingRule] = {
    "IRRF": WithholdingRule(Decimal("1.5"), "RIR/2018 art. 714"),
    "PIS": WithholdingRule(Decimal("0.65"), "Lei 10.833/2003 art. 31"),
    "COFINS": WithholdingRule(Decimal("3.00"), "Lei 10.833/2003 art. 31"),
    "CSLL": WithholdingRule(Decimal("1.00"), "Lei 10.833/2003 art. 31"),
}
# PIS/COFINS/CSLL are withheld (and dispensed) together; IRRF on its own.
CSRF_TAXES: tuple[FederalWithholding, ...] = ("PIS", "COFINS", "CSLL")
IRRF_DISPENSE_SOURCE = "Lei 9.430/1996 art. 67"
CSRF_DISPENSE_SOURCE = "Lei 10.833/2003 art. 31 § 3"
SIMPLES_EXEMPTION_SOURCE = "IN RFB 765/2007; Lei 10.833/2003 art. 32, II"

# The prestador's own PIS/COFINS (excluded from the IBS/CBS base during the transition):
# cumulative regime 0.65 % + 3 % (Lei 9.715/1998 art. 8; Lei 9.718/1998 art. 8), non-cumulative
# 1.65 % + 7.6 % (Lei 10.637/2002 art. 2; Lei 10.833/2003 art. 2).
OWN_PIS_COFINS_RATES: dict[PisCofinsRegime, tuple[Decimal, Decimal]] = {
    "cumulativo": (Decimal("0.65"), Decimal("3.00")),
    "nao_cumulativo": (Decimal("1.65"), Decimal("7.60")),
}


@dataclass(frozen=True)
class IbsCbsRates:
    cbs: Decimal
    ibs_uf: Decimal
    ibs_mun: Decimal
    source: str


# Test-year and transition rates by calendar year of the taxable event.
IBS_CBS_RATES: dict[int, IbsCbsRates] = {
    2026: IbsCbsRates(Decimal("0.9"), Decimal("0.1"), Decimal("0"), "LC 214/2025 arts. 343, 346"),
}

ISS_MIN_RATE = Decimal("2")  # LC 116/2003 art. 8-A
ISS_MAX_RATE = Decimal("5")  # LC 116/2003 art. 8, II


class FiscalSettings(BaseModel):
    """The org's fiscal registration and the tax treatment of the service it invoices."""

    model_config = ConfigDict(frozen=True)

    prestador_cnpj: str = Field(description="14 characters, normalised (alphanumeric allowed)")
    inscricao_municipal: str = Field(min_length=1, max_length=15)
    municipality_ibge: str = Field(pattern=r"^[0-9]{7}$", description="IBGE code of the ISS municipality")
    simples_nacional: bool
    c_trib_nac: str = Field(pattern=r"^[0-9]{6}$", description="national service code: LC 116 item, subitem, desdobro")
    lc116_item: str = Field(pattern=r"^[0-9]{1,2}\.[0-9]{2}$", description="e.g. '17.06'")
    cnae: str = Field(pattern=r"^[0-9]{7}$", description="CNAE subclass, digits only")
    iss_rate: Decimal = Field(ge=ISS_MIN_RATE, le=ISS_MAX_RATE, description="percent, e.g. 2.5")
    iss_withheld_by_tomador: bool = Field(
        False, description="the municipality makes a legal-entity tomador withhold ISS for this service"
    )
    federal_withholdings: frozenset[FederalWithholding] = Field(
        frozenset(), description="which federal withholdings this service attracts"
    )
    pis_cofins_regime: PisCofinsRegime | None = Field(
        None, description="the prestador's own PIS/COFINS regime; required outside the Simples Nacional"
    )

    @field_validator("prestador_cnpj", mode="before")
    @classmethod
    def _cnpj(cls, value: object) -> str:
        try:
            tax_id = normalise_tax_id(value if isinstance(value, str) else "", field="prestador_cnpj")
        except InvalidRequestError:
            raise ValueError("not a valid CNPJ") from None
        if tax_id.kind != "CNPJ":
            raise ValueError("must be a CNPJ, not a CPF")
        return tax_id.value

    @field_validator("cnae", mode="before")
    @classmethod
    def _cnae_digits(cls, value: object) -> object:
        # "6201-5/01" and "6201501" are the same subclass.
        return re.sub(r"[.\-/\s]", "", value) if isinstance(value, str) else value

    @field_validator("iss_rate", mode="before")
    @classmethod
    def _no_float_rate(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError("iss_rate must be a Decimal or a string, never a float")
        return value

    @model_validator(mode="after")
    def _regime_outside_simples(self) -> FiscalSettings:
        if not self.simples_nacional and self.pis_cofins_regime is None:
            raise ValueError("pis_cofins_regime is required when the prestador is not in the Simples Nacional")
        return self


class InvoiceValues(BaseModel):
    """Every amount an NFS-e carries, in centavos. Withheld amounts are 0 when not withheld."""

    model_config = ConfigDict(frozen=True)

    gross_cents: int
    unconditional_discount_cents: int
    base_cents: int = Field(description="ISS and withholding base: gross - unconditional discount")
    iss_rate: Decimal
    iss_cents: int
    iss_withheld: bool
    irrf_cents: int
    pis_cents: int
    cofins_cents: int
    csll_cents: int
    federal_withheld_cents: int
    total_withheld_cents: int = Field(description="federal withholdings plus ISS when withheld")
    net_cents: int = Field(description="what the tomador pays the prestador")
    # The prestador's own PIS/COFINS (débito próprio, never withheld): None in the Simples Nacional.
    own_pis_rate: Decimal | None = None
    own_cofins_rate: Decimal | None = None
    own_pis_cents: int | None = None
    own_cofins_cents: int | None = None
    notes: tuple[str, ...] = Field((), description="why a withholding did or did not apply, with its source")
    # 2026 tax reform, informational, never deducted.
    ibs_cbs_applies: bool
    ibs_cbs_base_cents: int | None
    cbs_rate: Decimal | None
    cbs_cents: int | None
    ibs_uf_rate: Decimal | None
    ibs_uf_cents: int | None
    ibs_mun_rate: Decimal | None
    ibs_mun_cents: int | None
    ibs_cents: int | None


def _brl(cents: int) -> str:
    return f"R$ {cents // 100}.{cents % 100:02d}"


def compute_invoice(
    amount_cents: int,
    settings: FiscalSettings,
    tomador: TaxId,
    *,
    unconditional_discount_cents: int = 0,
    competence: date | None = None,
) -> InvoiceValues:
    """The values of an NFS-e for ``amount_cents`` of service to ``tomador``.

    ``competence`` is the date of the taxable event (defaults to today, UTC) and selects the
    IBS/CBS test-year rates.
    """
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvalidRequestError("amount_cents must be a positive integer", code="invalid_amount")
    if (
        isinstance(unconditional_discount_cents, bool)
        or not isinstance(unconditional_discount_cents, int)
        or not 0 <= unconditional_discount_cents < amount_cents
    ):
        raise InvalidRequestError(
            "unconditional_discount_cents must be an integer from 0 to below the amount", code="invalid_amount"
        )
    when = competence or datetime.now(UTC).date()
    base = amount_cents - unconditional_discount_cents
    notes: list[str] = []

    iss = percent_of(base, settings.iss_rate)
    iss_withheld = settings.iss_withheld_by_tomador and tomador.is_legal_entity
    if settings.iss_withheld_by_tomador and not tomador.is_legal_entity:
        notes.append("ISS not withheld: the tomador is a person (CPF) (LC 116/2003 art. 6 § 2, II)")

    withheld: dict[FederalWithholding, int] = dict.fromkeys(WITHHOLDING_RULES, 0)
    applicable = settings.federal_withholdings
    if applicable and not tomador.is_legal_entity:
        notes.append("no federal withholding: the tomador is a person (CPF)")
    elif applicable and settings.simples_nacional:
        notes.append(f"no federal withholding: the prestador is in the Simples Nacional ({SIMPLES_EXEMPTION_SOURCE})")
    elif applicable:
        if "IRRF" in applicable:
            irrf = percent_of(base, WITHHOLDING_RULES["IRRF"].rate)
            if irrf <= DISPENSE_THRESHOLD_CENTS:
                notes.append(f"IRRF of {_brl(irrf)} dispensed: R$ 10.00 or less ({IRRF_DISPENSE_SOURCE})")
            else:
                withheld["IRRF"] = irrf
        csrf = {tax: percent_of(base, WITHHOLDING_RULES[tax].rate) for tax in CSRF_TAXES if tax in applicable}
        if csrf:
            total = sum(csrf.values())
            if total <= DISPENSE_THRESHOLD_CENTS:
                names = "/".join(csrf)
                notes.append(f"{names} of {_brl(total)} dispensed: R$ 10.00 or less ({CSRF_DISPENSE_SOURCE})")
            else:
                withheld.update(csrf)

    federal = sum(withheld.values())
    total_withheld = federal + (iss if iss_withheld else 0)

    own_pis_rate = own_cofins_rate = None
    own_pis = own_cofins = None
    if not settings.simples_nacional:
        regime = settings.pis_cofins_regime
        assert regime is not None  # enforced by FiscalSettings outside the Simples Nacional
        own_pis_rate, own_cofins_rate = OWN_PIS_COFINS_RATES[regime]
        own_pis, own_cofins = percent_of(base, own_pis_rate), percent_of(base, own_cofins_rate)

    rates = IBS_CBS_RATES.get(when.year)
    applies = rates is not None and not settings.simples_nacional
    ibs_cbs_base = cbs = ibs_uf = ibs_mun = None
    if rates is not None and settings.simples_nacional:
        notes.append("IBS/CBS test-year rates not applied to Simples Nacional (LC 214/2025 art. 348, III, c)")
    if rates is not None and applies and own_pis is not None and own_cofins is not None:
        ibs_cbs_base = base - iss - own_pis - own_cofins
        cbs = percent_of(ibs_cbs_base, rates.cbs)
        ibs_uf = percent_of(ibs_cbs_base, rates.ibs_uf)
        ibs_mun = percent_of(ibs_cbs_base, rates.ibs_mun)

    return InvoiceValues(
        gross_cents=amount_cents,
        unconditional_discount_cents=unconditional_discount_cents,
        base_cents=base,
        iss_rate=settings.iss_rate,
        iss_cents=iss,
        iss_withheld=iss_withheld,
        irrf_cents=withheld["IRRF"],
        pis_cents=withheld["PIS"],
        cofins_cents=withheld["COFINS"],
        csll_cents=withheld["CSLL"],
        federal_withheld_cents=federal,
        total_withheld_cents=total_withheld,
        net_cents=base - total_withheld,
        own_pis_rate=own_pis_rate,
        own_cofins_rate=own_cofins_rate,
        own_pis_cents=own_pis,
        own_cofins_cents=own_cofins,
        notes=tuple(notes),
        ibs_cbs_applies=applies,
        ibs_cbs_base_cents=ibs_cbs_base,
        cbs_rate=rates.cbs if applies and rates else None,
        cbs_cents=cbs,
        ibs_uf_rate=rates.ibs_uf if applies and rates else None,
        ibs_uf_cents=ibs_uf,
        ibs_mun_rate=rates.ibs_mun if applies and rates else None,
        ibs_mun_cents=ibs_mun,
        ibs_cents=None if ibs_uf is None or ibs_mun is None else ibs_uf + ibs_mun,
    )
