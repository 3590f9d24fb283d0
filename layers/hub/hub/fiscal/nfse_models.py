"""The NFS-e as the hub describes it, whatever provider emits it.

Every emitter (Nuvem Fiscal ``POST /nfse/dps``, Focus NFe ``POST /v2/nfsen``) takes one
:class:`NfseRequest` and answers :class:`NfseStatus`; each adapter maps these fields to its own
body at its edge. The fields follow the national layout (DPS, leiaute 1.01, mandatory nationwide
since 1 Jan 2026 under LC 214/2025): ``cTribNac`` is the 6-digit national service code (2 item +
2 subitem of LC 116/2003 + 2 national breakdown), municipalities are IBGE 7-digit codes.

Money is integer centavos (never a float); rates are :class:`~decimal.Decimal` percentages
(``Decimal("2.00")`` = 2 %). Our charge id is the invoice's reference at every provider, so a
retried emission finds the note already there instead of emitting a second one.

2026 is the tax reform's "test year" (LC 214/2025, art. 343 ss.): CBS at 0.9 % and IBS at 0.1 %,
informed on the document but offset against PIS/COFINS — :class:`IbsCbs` carries them, optional
while providers still treat the group as optional.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.money import percent_of
from hub.payments.models import CHARGE_ID_PATTERN

NfseStatusValue = Literal["processando", "autorizada", "negada", "cancelada"]
CancellationStatusValue = Literal["pendente", "cancelada", "rejeitada"]

# The 2026 test-year rates (LC 214/2025, arts. 346 and 343): CBS 0.9 %, IBS 0.1 %.
CBS_TEST_YEAR_RATE = Decimal("0.9")
IBS_TEST_YEAR_RATE = Decimal("0.1")

CPF_PATTERN = r"^[0-9]{11}$"
# Alphanumeric CNPJ (in force since July 2026): 12 uppercase letters/digits + 2 check digits.
CNPJ_PATTERN = r"^[0-9A-Z]{12}[0-9]{2}$"
TAX_ID_PATTERN = r"^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$"
IBGE_PATTERN = r"^[0-9]{7}$"
CTRIBNAC_PATTERN = r"^[0-9]{6}$"
LC116_PATTERN = r"^[0-9]{1,2}\.[0-9]{2}$"
# The service description both emitters take: ``xDescServ`` (Nuvem Fiscal's CServ) and
# ``descricao_servico`` (https://campos.focusnfe.com.br/nfse_nacional) hold 1000 characters.
DESCRIPTION_MAX_LENGTH = 1000
# PIS/COFINS situation codes (CST) of the DPS ``piscofins.CST`` (Nuvem Fiscal's TribOutrosPisCofins,
# Focus ``situacao_tributaria_pis_cofins``): 00 none … 09 suspension.
PIS_COFINS_CST_PATTERN = r"^0[0-9]$"
# tpRetPisCofins after NT 007 (SE/CGNFS-e, Feb 2026): which of PIS, COFINS and CSLL the tomador
# withheld; their sum goes in vRetCSLL. 1 and 2 (retido / não retido) are the legacy codes.
RETENTION_CODES: dict[tuple[bool, bool, bool], int] = {
    (False, False, False): 0,
    (True, True, True): 3,
    (True, True, False): 4,
    (True, False, False): 5,
    (False, True, False): 6,
    (False, True, True): 7,
    (False, False, True): 8,
    (True, False, True): 9,
}
LEGACY_RETENTION_CODES = frozenset({1, 2})


def retention_code(pis: bool, cofins: bool, csll: bool) -> int:
    """``tpRetPisCofins`` / ``tipo_retencao_pis_cofins``: 0 none, 3 PIS+COFINS+CSLL, 4 PIS+COFINS,
    5 PIS, 6 COFINS, 7 COFINS+CSLL, 8 CSLL, 9 PIS+CSLL
    (https://focusnfe.com.br/guides/nfse/nfse-nacional/retencao-pis-cofins-csll-irrf)."""
    return RETENTION_CODES[(pis, cofins, csll)]


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("floats are never money or rates here: pass a Decimal, a str or an int")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Model):
    street: str = Field(min_length=1, max_length=255)
    number: str = Field(min_length=1, max_length=60)
    complement: str | None = Field(None, max_length=156)
    district: str = Field(min_length=1, max_length=60)
    municipality_ibge: str = Field(pattern=IBGE_PATTERN)
    cep: str = Field(pattern=r"^[0-9]{8}$")
    uf: str | None = Field(None, pattern=r"^[A-Z]{2}$")


class Prestador(_Model):
    """The org issuing the invoice.

    ``simples_nacional_option`` is the DPS ``opSimpNac``: 1 not opting for Simples Nacional,
    2 MEI, 3 ME/EPP; ``simples_nacional_regime`` is ``regApTribSN`` (ME/EPP only): 1 federal
    and municipal taxes through the Simples, 2 federal through the Simples and ISS by the
    municipal rules, 3 both outside the Simples."""

    cnpj: str = Field(pattern=CNPJ_PATTERN)
    inscricao_municipal: str | None = Field(None, min_length=1, max_length=15)
    municipality_ibge: str = Field(pattern=IBGE_PATTERN)
    simples_nacional_option: Literal[1, 2, 3] = 1
    simples_nacional_regime: Literal[1, 2, 3] | None = None
    special_regime: int = Field(0, ge=0, le=9, description="regEspTrib; 0 = none")

    @property
    def simples_nacional(self) -> bool:
        return self.simples_nacional_option in (2, 3)

    @model_validator(mode="after")
    def _regime_only_for_me_epp(self) -> Prestador:
        if self.simples_nacional_regime is not None and self.simples_nacional_option != 3:
            raise ValueError("simples_nacional_regime applies only to ME/EPP (simples_nacional_option 3)")
        return self


class Tomador(_Model):
    tax_id: str = Field(pattern=TAX_ID_PATTERN, description="CPF (11 digits) or CNPJ (14, alphanumeric allowed)")
    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(None, max_length=80)
    phone: str | None = Field(None, max_length=20)
    address: Address | None = None

    @property
    def is_cnpj(self) -> bool:
        return len(self.tax_id) == 14


class Servico(_Model):
    ctribnac: str = Field(pattern=CTRIBNAC_PATTERN, description="national ISS code, e.g. 010701")
    lc116_item: str = Field(pattern=LC116_PATTERN, description="LC 116/2003 item, e.g. 1.07")
    cnae: str | None = Field(None, pattern=r"^[0-9]{7}$")
    nbs: str | None = Field(None, pattern=r"^[0-9]{9}$")
    municipal_code: str | None = Field(None, max_length=20, description="cTribMun, where the city has one")
    description: str = Field(
        min_length=1, max_length=DESCRIPTION_MAX_LENGTH, description="xDescServ / descricao_servico (1000 at most)"
    )
    municipality_ibge: str = Field(pattern=IBGE_PATTERN, description="where the ISS is due (incidence)")
    service_municipality_ibge: str | None = Field(
        None, pattern=IBGE_PATTERN, description="where the service was rendered; default: incidence"
    )


class OwnPisCofins(_Model):
    """The prestador's own PIS/COFINS (débito próprio) outside the Simples Nacional — the DPS
    ``piscofins`` ``CST``, ``vBCPisCofins``, ``pAliqPis``, ``pAliqCofins``, ``vPis``, ``vCofins``.
    Under NT 007 these are never the withheld amounts (those go in ``vRetCSLL``)."""

    cst: str = Field("01", pattern=PIS_COFINS_CST_PATTERN, description="01 = tributável à alíquota básica")
    base_cents: int = Field(ge=0, strict=True)
    pis_rate: Decimal = Field(ge=0, le=100)
    cofins_rate: Decimal = Field(ge=0, le=100)
    pis_cents: int = Field(ge=0, strict=True)
    cofins_cents: int = Field(ge=0, strict=True)

    _no_float = field_validator("pis_rate", "cofins_rate", mode="before")(_no_float)

    @classmethod
    def at_rates(cls, base_cents: int, pis_rate: Decimal, cofins_rate: Decimal, cst: str = "01") -> OwnPisCofins:
        """Values rounded half-to-even, as NT 007 asks of vPis/vCofins."""
        return cls(
            cst=cst,
            base_cents=base_cents,
            pis_rate=pis_rate,
            cofins_rate=cofins_rate,
            pis_cents=percent_of(base_cents, pis_rate),
            cofins_cents=percent_of(base_cents, cofins_rate),
        )


class Valores(_Model):
    """Amounts in centavos; ``iss_rate`` a percentage. ``irrf/pis/cofins/csll_cents`` are what the
    tomador withholds; the prestador's own PIS/COFINS are :class:`OwnPisCofins`. A deduction is
    either a value (``deductions_cents``) or a percentage of the service (``deductions_rate``);
    it reduces the ISS base, not the net value."""

    service_cents: int = Field(gt=0, strict=True)
    deductions_cents: int = Field(0, ge=0, strict=True)
    deductions_rate: Decimal | None = Field(None, gt=0, lt=100, description="% of the service value (pDR)")
    iss_rate: Decimal = Field(ge=0, le=Decimal("5"), description="% (LC 116: 2 % to 5 %; 0 under Simples)")
    iss_cents: int = Field(ge=0, strict=True)
    iss_withheld: bool = False
    irrf_cents: int = Field(0, ge=0, strict=True)
    pis_cents: int = Field(0, ge=0, strict=True)
    cofins_cents: int = Field(0, ge=0, strict=True)
    csll_cents: int = Field(0, ge=0, strict=True)
    own_pis_cofins: OwnPisCofins | None = Field(None, description="outside the Simples Nacional")

    _no_float = field_validator("iss_rate", "deductions_rate", mode="before")(_no_float)

    @model_validator(mode="after")
    def _consistent(self) -> Valores:
        if self.deductions_cents and self.deductions_rate is not None:
            raise ValueError("a deduction is a value or a percentage, not both")
        if self.deduction_value_cents >= self.service_cents:
            raise ValueError("deductions must be smaller than the service value")
        if self.withheld_cents >= self.service_cents:
            raise ValueError("withholdings add up to the whole service value")
        return self

    @property
    def deduction_value_cents(self) -> int:
        if self.deductions_rate is not None:
            return percent_of(self.service_cents, self.deductions_rate)
        return self.deductions_cents

    @property
    def base_cents(self) -> int:
        """The ISS base: the service value less deductions."""
        return self.service_cents - self.deduction_value_cents

    @property
    def retained_pis_cofins_csll_cents(self) -> int:
        """NT 007 ``vRetCSLL``: PIS + COFINS + CSLL withheld, together."""
        return self.pis_cents + self.cofins_cents + self.csll_cents

    @property
    def retention_code(self) -> int:
        """NT 007 ``tpRetPisCofins`` (0, 3-9) for what was withheld."""
        return retention_code(bool(self.pis_cents), bool(self.cofins_cents), bool(self.csll_cents))

    @property
    def withheld_cents(self) -> int:
        """The note's withholding total: IRRF + (PIS + COFINS + CSLL) + ISS when withheld."""
        federal = self.irrf_cents + self.retained_pis_cofins_csll_cents
        return federal + (self.iss_cents if self.iss_withheld else 0)

    @property
    def net_cents(self) -> int:
        """What the tomador pays the prestador (the layout's vLiq): the service value less every
        withholding. Deductions lower the ISS base only; the hub sends no discounts."""
        return self.service_cents - self.withheld_cents

    @property
    def total_taxes(self) -> tuple[int, int, int] | None:
        """``totTrib`` in centavos (federal, state, municipal) for a prestador outside the Simples:
        its own PIS + COFINS, no state tax on services, the ISS. None in the Simples."""
        own = self.own_pis_cofins
        if own is None:
            return None
        return (own.pis_cents + own.cofins_cents, 0, self.iss_cents)


class IbsCbs(_Model):
    """The tax reform's IBS/CBS group (DPS ``IBSCBS``): situation code (CST, 3 digits), tax
    classification (``cClassTrib``, 6 digits), operation indicator (``cIndOp``, 6 digits), and
    the rates/values the hub computed (2026 test year: CBS 0.9 %, IBS 0.1 %)."""

    cst: str = Field(pattern=r"^[0-9]{3}$")
    cclasstrib: str = Field(pattern=r"^[0-9]{6}$")
    cind_op: str = Field(pattern=r"^[0-9]{6}$")
    final_consumer: bool = False
    cbs_rate: Decimal = Field(CBS_TEST_YEAR_RATE, ge=0)
    ibs_rate: Decimal = Field(IBS_TEST_YEAR_RATE, ge=0)
    cbs_cents: int = Field(0, ge=0, strict=True)
    ibs_cents: int = Field(0, ge=0, strict=True)

    _no_float = field_validator("cbs_rate", "ibs_rate", mode="before")(_no_float)

    @classmethod
    def test_year(
        cls, *, base_cents: int, cst: str, cclasstrib: str, cind_op: str, final_consumer: bool = False
    ) -> IbsCbs:
        """The 2026 values: 0.9 % CBS and 0.1 % IBS of ``base_cents``, rounded half-to-even."""
        return cls(
            cst=cst,
            cclasstrib=cclasstrib,
            cind_op=cind_op,
            final_consumer=final_consumer,
            cbs_cents=percent_of(base_cents, CBS_TEST_YEAR_RATE),
            ibs_cents=percent_of(base_cents, IBS_TEST_YEAR_RATE),
        )


class NfseRequest(_Model):
    reference: str = Field(pattern=CHARGE_ID_PATTERN, description="our charge id: the provider's reference")
    issued_at: datetime
    competence: date
    prestador: Prestador
    tomador: Tomador
    servico: Servico
    valores: Valores
    ibs_cbs: IbsCbs | None = None

    @field_validator("issued_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("issued_at needs a time zone (the DPS dhEmi carries its offset)")
        return value

    @model_validator(mode="after")
    def _own_taxes_outside_simples(self) -> NfseRequest:
        if self.valores.own_pis_cofins is not None and self.prestador.simples_nacional:
            raise ValueError("a Simples Nacional prestador pays PIS/COFINS in the DAS: no own PIS/COFINS on the note")
        return self


class NfseStatus(BaseModel):
    """Where an invoice stands at one provider."""

    status: NfseStatusValue
    provider: str
    provider_id: str | None = Field(None, description="the provider's id of the note (Focus: our reference)")
    reference: str | None = None
    number: str | None = None
    verification_code: str | None = None
    reasons: list[str] = Field(default_factory=list, description="why it was denied, as the provider put it")
    pdf_url: str | None = None
    xml_url: str | None = None
    raw_status: str | None = Field(None, description="the provider's status, verbatim")

    @property
    def final(self) -> bool:
        return self.status != "processando"


def reason_lines(entries: Any, *, text_key: str) -> list[str]:
    """A provider's list of ``{"codigo", <text_key>, "correcao"}`` messages as readable lines
    for :attr:`NfseStatus.reasons` (Focus NFe ``erros[].mensagem``, Nuvem Fiscal
    ``mensagens[].descricao``)."""
    reasons: list[str] = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        text = " ".join(str(entry.get(text_key) or "").split())
        code = entry.get("codigo")
        line = f"{code}: {text}" if code and text else str(text or code or "")
        if entry.get("correcao"):
            line += f" (correção: {entry['correcao']})"
        if line:
            reasons.append(line)
    return reasons


class NfseCancellation(BaseModel):
    """The answer to a cancellation request."""

    status: CancellationStatusValue
    provider: str
    provider_id: str | None = None
    reasons: list[str] = Field(default_factory=list)
    raw_status: str | None = None
