"""Invoice values: ISS, federal withholdings with their R$ 10 dispensations, Simples Nacional,
CPF tomadores, half-even rounding and the 2026 IBS/CBS test-year values.

Every expected amount below was worked out by hand from the rule in hub.fiscal.taxes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from hub.documents import normalise_tax_id
from hub.errors import InvalidRequestError
from hub.fiscal.taxes import FiscalSettings, InvoiceValues, compute_invoice

CNPJ_TOMADOR = normalise_tax_id("11.222.333/0001-81")
ALNUM_TOMADOR = normalise_tax_id("12.ABC.345/01DE-35")
CPF_TOMADOR = normalise_tax_id("529.982.247-25")
Y2026 = date(2026, 8, 3)
ALL_FEDERAL = frozenset({"IRRF", "PIS", "COFINS", "CSLL"})


def settings(**overrides: Any) -> FiscalSettings:
    base: dict[str, Any] = {
        "prestador_cnpj": "12.ABC.345/01DE-35",
        "inscricao_municipal": "1234567",
        "municipality_ibge": "3550308",
        "simples_nacional": False,
        "c_trib_nac": "170601",
        "lc116_item": "17.06",
        "cnae": "7311-4/00",
        "iss_rate": Decimal("5"),
        "federal_withholdings": ALL_FEDERAL,
        "pis_cofins_regime": "cumulativo",
    }
    base.update(overrides)
    return FiscalSettings(**base)


def withheld(values: InvoiceValues) -> tuple[int, int, int, int]:
    return (values.irrf_cents, values.pis_cents, values.cofins_cents, values.csll_cents)


# (id, amount, settings overrides, tomador, ISS, (IRRF, PIS, COFINS, CSLL), ISS withheld?, net)
CASES = [
    ("all withholdings", 100000, {}, CNPJ_TOMADOR, 5000, (1500, 650, 3000, 1000), False, 100000 - 6150),
    ("alphanumeric CNPJ tomador", 100000, {}, ALNUM_TOMADOR, 5000, (1500, 650, 3000, 1000), False, 93850),
    (
        "ISS withheld too",
        100000,
        {"iss_withheld_by_tomador": True},
        CNPJ_TOMADOR,
        5000,
        (1500, 650, 3000, 1000),
        True,
        100000 - 6150 - 5000,
    ),
    # IRRF 1.5 % of 667.00 = 10.005 → 10.00 half-even: exactly R$ 10, dispensed.
    # (Half-up would give 10.01 and withhold it.) CSRF 4.34 + 20.01 + 6.67 = 31.02 is withheld.
    ("IRRF exactly R$ 10 (half-even)", 66700, {}, CNPJ_TOMADOR, 3335, (0, 434, 2001, 667), False, 66700 - 3102),
    # 667.01 → 10.00515 → 10.01: just above, withheld.
    ("IRRF just above R$ 10", 66701, {}, CNPJ_TOMADOR, 3335, (1001, 434, 2001, 667), False, 66701 - 1001 - 3102),
    (
        "IRRF 666.66 rounds to 10.00",
        66666,
        {"federal_withholdings": {"IRRF"}},
        CNPJ_TOMADOR,
        3333,
        (0, 0, 0, 0),
        False,
        66666,
    ),
    # CSRF on 215.16: 1.39854 → 1.40, 6.4548 → 6.45, 2.1516 → 2.15 = 10.00 exactly: dispensed.
    # IRRF 3.23 is under R$ 10 too, so nothing is withheld.
    ("CSRF exactly R$ 10", 21516, {}, CNPJ_TOMADOR, 1076, (0, 0, 0, 0), False, 21516),
    # 215.17: COFINS 6.4551 → 6.46, total 10.01: withheld.
    ("CSRF just above R$ 10", 21517, {}, CNPJ_TOMADOR, 1076, (0, 140, 646, 215), False, 21517 - 1001),
    (
        "Simples Nacional: no federal withholding, ISS still withheld",
        1000000,
        {
            "simples_nacional": True,
            "iss_rate": Decimal("2"),
            "iss_withheld_by_tomador": True,
            "pis_cofins_regime": None,
        },
        CNPJ_TOMADOR,
        20000,
        (0, 0, 0, 0),
        True,
        980000,
    ),
    (
        "CPF tomador: nothing withheld, not even ISS",
        1000000,
        {"iss_withheld_by_tomador": True},
        CPF_TOMADOR,
        50000,
        (0, 0, 0, 0),
        False,
        1000000,
    ),
    (
        "service with IRRF only",
        100000,
        {"federal_withholdings": {"IRRF"}},
        CNPJ_TOMADOR,
        5000,
        (1500, 0, 0, 0),
        False,
        98500,
    ),
    (
        "service with no withholding",
        100000,
        {"federal_withholdings": frozenset()},
        CNPJ_TOMADOR,
        5000,
        (0, 0, 0, 0),
        False,
        100000,
    ),
    # ISS half-even: 2 % of 1.25 = 0.025 → 0.02; of 1.75 = 0.035 → 0.04; 2.5 % of 100.50 = 2.5125 → 2.51.
    ("ISS 0.025 → 0.02", 125, {"iss_rate": Decimal("2")}, CPF_TOMADOR, 2, (0, 0, 0, 0), False, 125),
    ("ISS 0.035 → 0.04", 175, {"iss_rate": Decimal("2")}, CPF_TOMADOR, 4, (0, 0, 0, 0), False, 175),
    ("ISS 2.5 % of 100.50", 10050, {"iss_rate": Decimal("2.5")}, CPF_TOMADOR, 251, (0, 0, 0, 0), False, 10050),
]


@pytest.mark.parametrize(
    ("amount", "overrides", "tomador", "iss", "federal", "iss_withheld", "net"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_invoice_values(
    amount: int,
    overrides: dict[str, Any],
    tomador: Any,
    iss: int,
    federal: tuple[int, int, int, int],
    iss_withheld: bool,
    net: int,
) -> None:
    values = compute_invoice(amount, settings(**overrides), tomador, competence=Y2026)
    assert values.iss_cents == iss
    assert withheld(values) == federal
    assert values.iss_withheld is iss_withheld
    assert values.federal_withheld_cents == sum(federal)
    assert values.total_withheld_cents == sum(federal) + (iss if iss_withheld else 0)
    assert values.net_cents == net
    assert values.gross_cents == values.base_cents == amount


def test_dispensations_are_explained_with_their_legal_source() -> None:
    at_irrf = compute_invoice(66700, settings(), CNPJ_TOMADOR, competence=Y2026)
    assert any("IRRF of R$ 10.00 dispensed" in n and "Lei 9.430/1996 art. 67" in n for n in at_irrf.notes)
    at_csrf = compute_invoice(21516, settings(), CNPJ_TOMADOR, competence=Y2026)
    assert any(
        "PIS/COFINS/CSLL of R$ 10.00 dispensed" in n and "Lei 10.833/2003 art. 31 § 3" in n for n in at_csrf.notes
    )
    simples = compute_invoice(
        100000, settings(simples_nacional=True, pis_cofins_regime=None), CNPJ_TOMADOR, competence=Y2026
    )
    assert any("Simples Nacional" in n and "IN RFB 765/2007" in n for n in simples.notes)


def test_unconditional_discount_reduces_every_base() -> None:
    values = compute_invoice(100000, settings(), CNPJ_TOMADOR, unconditional_discount_cents=10000, competence=Y2026)
    assert values.base_cents == 90000
    assert values.iss_cents == 4500
    assert withheld(values) == (1350, 585, 2700, 900)
    assert values.net_cents == 90000 - 1350 - 585 - 2700 - 900


@pytest.mark.parametrize(
    ("regime", "ibs_cbs_base", "cbs", "ibs_uf"),
    [
        # 1000.00 - ISS 50.00 - own PIS 6.50 - own COFINS 30.00 = 913.50; CBS 0.9 % = 8.2215 → 8.22;
        # IBS 0.1 % = 0.9135 → 0.91.
        ("cumulativo", 91350, 822, 91),
        # 1000.00 - 50.00 - 16.50 - 76.00 = 857.50; CBS 7.7175 → 7.72; IBS 0.8575 → 0.86.
        ("nao_cumulativo", 85750, 772, 86),
    ],
)
def test_ibs_cbs_2026_test_year_is_informational(regime: str, ibs_cbs_base: int, cbs: int, ibs_uf: int) -> None:
    values = compute_invoice(100000, settings(pis_cofins_regime=regime), CNPJ_TOMADOR, competence=Y2026)
    assert values.ibs_cbs_applies
    assert values.ibs_cbs_base_cents == ibs_cbs_base
    assert (values.cbs_rate, values.ibs_uf_rate, values.ibs_mun_rate) == (Decimal("0.9"), Decimal("0.1"), Decimal("0"))
    assert (values.cbs_cents, values.ibs_uf_cents, values.ibs_mun_cents) == (cbs, ibs_uf, 0)
    assert values.ibs_cents == ibs_uf
    # Never deducted: the net is the same as without the reform fields.
    assert values.net_cents == 100000 - 6150


def test_ibs_cbs_not_applied_to_simples_nor_outside_the_modelled_years() -> None:
    simples = compute_invoice(
        100000, settings(simples_nacional=True, pis_cofins_regime=None), CNPJ_TOMADOR, competence=Y2026
    )
    assert not simples.ibs_cbs_applies
    assert simples.cbs_cents is None and simples.ibs_cents is None
    assert any("art. 348" in n for n in simples.notes)
    later = compute_invoice(100000, settings(), CNPJ_TOMADOR, competence=date(2027, 1, 4))
    assert not later.ibs_cbs_applies
    assert (later.ibs_cbs_base_cents, later.cbs_cents, later.ibs_uf_cents) == (None, None, None)
    assert later.net_cents == 100000 - 6150


@pytest.mark.parametrize("amount", [0, -100, True])
def test_amount_must_be_positive_integer_centavos(amount: Any) -> None:
    with pytest.raises(InvalidRequestError, match="amount_cents"):
        compute_invoice(amount, settings(), CNPJ_TOMADOR, competence=Y2026)


@pytest.mark.parametrize("discount", [-1, 100000, 100001])
def test_discount_must_leave_something_to_invoice(discount: int) -> None:
    with pytest.raises(InvalidRequestError, match="unconditional_discount_cents"):
        compute_invoice(100000, settings(), CNPJ_TOMADOR, unconditional_discount_cents=discount, competence=Y2026)


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss_rate": Decimal("1.99")},  # below the 2 % floor (LC 116 art. 8-A)
        {"iss_rate": Decimal("5.01")},  # above the 5 % ceiling (LC 116 art. 8, II)
        {"iss_rate": 2.5},  # floats are never money nor rates
        {"prestador_cnpj": "529.982.247-25"},  # a CPF cannot be the prestador here
        {"prestador_cnpj": "11.222.333/0001-82"},
        {"pis_cofins_regime": None},  # required outside the Simples Nacional
        {"municipality_ibge": "355030"},
        {"c_trib_nac": "17.06"},
        {"federal_withholdings": {"INSS"}},
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        settings(**overrides)


def test_settings_normalise_cnpj_and_cnae() -> None:
    s = settings(prestador_cnpj="12.abc.345/01de-35", cnae="7311-4/00")
    assert (s.prestador_cnpj, s.cnae) == ("12ABC34501DE35", "7311400")


# ----- the prestador's own PIS/COFINS (débito próprio, NT 007 vPis/vCofins) ------------------


@pytest.mark.parametrize(
    ("regime", "pis_rate", "cofins_rate", "pis", "cofins"),
    [
        # cumulative (Lucro Presumido): 0.65 % + 3 % of R$ 1,500.00
        ("cumulativo", Decimal("0.65"), Decimal("3.00"), 975, 4_500),
        # non-cumulative (Lucro Real): 1.65 % + 7.6 % of R$ 1,500.00
        ("nao_cumulativo", Decimal("1.65"), Decimal("7.60"), 2_475, 11_400),
    ],
)
def test_own_pis_cofins_outside_the_simples(
    regime: str, pis_rate: Decimal, cofins_rate: Decimal, pis: int, cofins: int
) -> None:
    values = compute_invoice(150_000, settings(pis_cofins_regime=regime), CPF_TOMADOR, competence=Y2026)
    assert (values.own_pis_rate, values.own_cofins_rate) == (pis_rate, cofins_rate)
    assert (values.own_pis_cents, values.own_cofins_cents) == (pis, cofins)
    # own contributions are never withheld: a CPF tomador withholds nothing
    assert values.total_withheld_cents == 0 and values.net_cents == 150_000


def test_no_own_pis_cofins_in_the_simples() -> None:
    values = compute_invoice(
        150_000, settings(simples_nacional=True, pis_cofins_regime=None), CNPJ_TOMADOR, competence=Y2026
    )
    assert (values.own_pis_rate, values.own_pis_cents, values.own_cofins_cents) == (None, None, None)


def test_the_withholding_total_includes_pis_and_cofins_withheld() -> None:
    values = compute_invoice(150_000, settings(iss_rate=Decimal("2")), CNPJ_TOMADOR, competence=Y2026)
    # IRRF 22.50 + PIS 9.75 + COFINS 45.00 + CSLL 15.00
    assert values.total_withheld_cents == 9_225
    assert values.net_cents == 140_775
