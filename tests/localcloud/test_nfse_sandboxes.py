"""The Nuvem Fiscal and Focus NFe sandboxes: their HTTP contracts, and both adapters driven
against them (processando for N polls then autorizada, the denial trigger, one note per
reference, files, cancellation, the CNPJ lookup, the OAuth token)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.documents import normalise_tax_id
from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError
from hub.fiscal.invoicing import nfse_request
from hub.fiscal.nfse_models import NfseRequest, Prestador, Servico, Tomador, Valores
from hub.fiscal.taxes import FiscalSettings
from hub.money import percent_of
from hub.providers.focusnfe.client import FocusNfeClient
from hub.providers.nuvemfiscal import client as nuvemfiscal
from hub.providers.nuvemfiscal.client import NuvemFiscalClient
from hub.retry import RetryPolicy
from localcloud.sandboxes import focusnfe as focus_sandbox
from localcloud.sandboxes import nuvemfiscal as nf_sandbox
from localcloud.sandboxes.focusnfe import FocusNfeSandbox
from localcloud.sandboxes.nuvemfiscal import NuvemFiscalSandbox
from tests.conftest import ServedSandboxes

NO_SLEEP = RetryPolicy(max_attempts=1, sleep=lambda _: None)
PRESTADOR_CNPJ = "12345678000195"


@pytest.fixture
def url(sandboxes: ServedSandboxes) -> Iterator[str]:
    nuvemfiscal.clear_token_cache()
    yield sandboxes.url  # both sandboxes are reset around every test
    nuvemfiscal.clear_token_cache()


@pytest.fixture
def nf(sandboxes: ServedSandboxes) -> NuvemFiscalSandbox:
    sandbox: NuvemFiscalSandbox = sandboxes["nuvemfiscal"]
    return sandbox


@pytest.fixture
def focus(sandboxes: ServedSandboxes) -> FocusNfeSandbox:
    sandbox: FocusNfeSandbox = sandboxes["focusnfe"]
    return sandbox


def nf_client(url: str, **overrides: Any) -> NuvemFiscalClient:
    secret = {
        "base_url": f"{url}/nuvemfiscal",
        "auth_url": f"{url}/nuvemfiscal/oauth/token",
        "client_id": nf_sandbox.DEMO_CLIENT_ID,
        "client_secret": nf_sandbox.DEMO_CLIENT_SECRET,
        "ambiente": "homologacao",
        **overrides,
    }
    return NuvemFiscalClient(NuvemFiscalClient.parse_credentials(secret), retry_policy=NO_SLEEP)


def focus_client(url: str, token: str = focus_sandbox.DEMO_TOKEN) -> FocusNfeClient:
    secret = {"base_url": f"{url}/focusnfe", "token": token, "environment": "homologacao"}
    return FocusNfeClient(FocusNfeClient.parse_credentials(secret), retry_policy=NO_SLEEP)


def nfse(reference: str = "chg1", description: str = "Criação de site", tomador: str = "07504505000132") -> NfseRequest:
    return NfseRequest(
        reference=reference,
        issued_at=datetime(2026, 3, 10, 14, 30, tzinfo=UTC),
        competence=date(2026, 3, 10),
        prestador=Prestador(cnpj=PRESTADOR_CNPJ, municipality_ibge="3550308"),
        tomador=Tomador(tax_id=tomador, name="Cliente"),
        servico=Servico(ctribnac="010701", lc116_item="1.07", description=description, municipality_ibge="3550308"),
        valores=Valores(service_cents=150_000, iss_rate=Decimal("2.00"), iss_cents=3_000),
    )


# ----- Nuvem Fiscal --------------------------------------------------------------------------


def test_nuvemfiscal_processando_for_two_polls_then_autorizada(url: str, nf: NuvemFiscalSandbox) -> None:
    client = nf_client(url)
    emitted = client.emit_dps(nfse())
    assert emitted.status == "processando"
    assert emitted.provider_id is not None

    polls = [client.get_nfse(emitted.provider_id).status for _ in range(3)]
    assert polls == ["processando", "processando", "autorizada"]
    final = client.get_nfse(emitted.provider_id)
    assert final.number and final.verification_code
    assert client.download_pdf(emitted.provider_id).startswith(b"%PDF-")
    assert client.download_xml(emitted.provider_id).startswith(b"<?xml")
    assert nf.token_requests == 1  # one token for the whole conversation


def test_nuvemfiscal_polls_are_configurable_per_reference(url: str, nf: NuvemFiscalSandbox) -> None:
    nf.set_polls("chg5", 4)
    client = nf_client(url)
    note_id = client.emit_dps(nfse("chg5")).provider_id
    assert note_id is not None
    assert [client.get_nfse(note_id).status for _ in range(5)] == ["processando"] * 4 + ["autorizada"]

    marked = client.emit_dps(nfse("chg6", description="Site [POLLS=0]"))
    assert marked.status == "autorizada"


@pytest.mark.parametrize(
    ("description", "tomador"), [("Serviço NEGAR por favor", "07504505000132"), ("Criação de site", "99999999000191")]
)
def test_nuvemfiscal_denies_on_the_documented_trigger(url: str, description: str, tomador: str) -> None:
    client = nf_client(url)
    note_id = client.emit_dps(nfse("chg2", description=description, tomador=tomador)).provider_id
    assert note_id is not None
    statuses = [client.get_nfse(note_id) for _ in range(3)]
    assert statuses[-1].status == "negada"
    assert statuses[-1].reasons and statuses[-1].reasons[0].startswith("E0312:")
    with pytest.raises(InvalidRequestError):
        client.download_pdf(note_id)


def test_nuvemfiscal_same_reference_twice_is_one_note(url: str, nf: NuvemFiscalSandbox) -> None:
    client = nf_client(url)
    first = client.emit_dps(nfse("chg3"))
    second = client.emit_dps(nfse("chg3"))
    assert first.provider_id == second.provider_id
    assert nf.emissions == 1
    # even a raw POST with the same referencia does not emit again
    token = client.access_token()
    body = client.dps_body(nfse("chg3"))
    raw = httpx.post(f"{url}/nuvemfiscal/nfse/dps", json=_jsonable(body), headers={"Authorization": f"Bearer {token}"})
    assert raw.status_code == 200 and raw.json()["id"] == first.provider_id
    assert nf.emissions == 1


def test_nuvemfiscal_expired_token_is_refreshed_after_a_401(url: str, nf: NuvemFiscalSandbox) -> None:
    client = nf_client(url)
    note_id = client.emit_dps(nfse("chg4")).provider_id
    assert note_id is not None
    nf.revoke_tokens()
    assert client.get_nfse(note_id).status == "processando"
    assert nf.token_requests == 2


def test_nuvemfiscal_wrong_secret_is_an_authentication_error(url: str) -> None:
    with pytest.raises(AuthenticationError):
        nf_client(url, client_secret="wrong").get_nfse("nfs_x")


def test_nuvemfiscal_token_endpoint_contract(url: str) -> None:
    ok = httpx.post(
        f"{url}/nuvemfiscal/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": nf_sandbox.DEMO_CLIENT_ID,
            "client_secret": nf_sandbox.DEMO_CLIENT_SECRET,
            "scope": "nfse cnpj",
        },
    )
    assert ok.status_code == 200
    assert set(ok.json()) == {"access_token", "token_type", "expires_in", "scope"}
    bad_grant = httpx.post(f"{url}/nuvemfiscal/oauth/token", data={"grant_type": "password"})
    assert (bad_grant.status_code, bad_grant.json()) == (400, {"error": "unsupported_grant_type"})
    no_token = httpx.get(f"{url}/nuvemfiscal/nfse/nfs_x")
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == "Unauthorized"


def test_nuvemfiscal_validation_error_shape(url: str) -> None:
    client = nf_client(url)
    token = client.access_token()
    resp = httpx.post(
        f"{url}/nuvemfiscal/nfse/dps",
        json={"ambiente": "homologacao", "infDPS": {"prest": {"CNPJ": PRESTADOR_CNPJ}}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "ValidationFailed" and "cTribNac" in error["message"]


def test_nuvemfiscal_cancel_and_lookup(url: str) -> None:
    client = nf_client(url)
    note_id = client.emit_dps(nfse("chg7", description="Site [POLLS=0]")).provider_id
    assert note_id is not None
    assert client.cancel(note_id, "Pagamento estornado").status == "cancelada"
    assert client.get_nfse(note_id).status == "cancelada"
    found = client.find_by_reference("chg7", PRESTADOR_CNPJ)
    assert found is not None and found.status == "cancelada"
    assert client.find_by_reference("nope", PRESTADOR_CNPJ) is None
    with pytest.raises(InvalidRequestError):
        client.cancel(note_id, "De novo")


def test_nuvemfiscal_cnpj_lookup_active_and_baixada(url: str) -> None:
    client = nf_client(url)
    assert client.cnpj_lookup("07504505000132")["ativa"] is True
    baixada = client.cnpj_lookup(nf_sandbox.BAIXADA_CNPJ)
    assert (baixada["situacao_cadastral"], baixada["ativa"]) == ("BAIXADA", False)


def test_nuvemfiscal_faults_reach_the_adapter_as_unavailable(url: str) -> None:
    httpx.put(f"{url}/__sandbox/faults/nuvemfiscal", json={"mode": "error", "status": 503, "times": 1})
    client = nf_client(url)
    with pytest.raises(ProviderUnavailableError):
        client.access_token()
    httpx.delete(f"{url}/__sandbox/faults/nuvemfiscal")


# ----- Focus NFe -----------------------------------------------------------------------------


def test_focus_processando_then_autorizado_with_files(url: str) -> None:
    client = focus_client(url)
    assert client.emit(nfse("chg10")).status == "processando"
    statuses = [client.get("chg10").status for _ in range(3)]
    assert statuses == ["processando", "processando", "autorizada"]
    final = client.get("chg10")
    assert final.number and final.pdf_url and final.xml_url
    assert final.xml_url.startswith(f"{url}/focusnfe/arquivos/")
    assert client.download_pdf("chg10").startswith(b"%PDF-")
    assert client.download_xml("chg10").startswith(b"<?xml")


@pytest.mark.parametrize(
    ("description", "tomador"), [("NEGAR este serviço", "07504505000132"), ("Site", "99999999000191")]
)
def test_focus_denies_on_the_documented_trigger(url: str, description: str, tomador: str) -> None:
    client = focus_client(url)
    client.emit(nfse("chg11", description=description, tomador=tomador))
    final = [client.get("chg11") for _ in range(3)][-1]
    assert final.status == "negada"
    assert final.reasons == ["E0312: Tomador com situação cadastral irregular (sandbox)."]
    # the rejection is reported again, never re-emitted by the adapter
    assert client.emit(nfse("chg11")).status == "negada"


def test_focus_same_ref_twice_is_one_emission(url: str, focus: FocusNfeSandbox) -> None:
    client = focus_client(url)
    client.emit(nfse("chg12"))
    client.emit(nfse("chg12"))
    assert focus.emissions == 1
    auth = "Basic " + base64.b64encode(f"{focus_sandbox.DEMO_TOKEN}:".encode()).decode()
    raw = httpx.post(
        f"{url}/focusnfe/v2/nfsen",
        params={"ref": "chg12"},
        content=b'{"codigo_municipio_emissora":1,"cnpj_prestador":"1","codigo_tributacao_nacional_iss":"010701",'
        b'"descricao_servico":"x","valor_servico":1.00}',
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    assert (raw.status_code, raw.json()["codigo"]) == (422, "em_processamento")
    assert focus.emissions == 1


def test_focus_cancel(url: str) -> None:
    client = focus_client(url)
    client.emit(nfse("chg13", description="Site [POLLS=0]"))
    assert client.get("chg13").status == "autorizada"
    assert client.cancel("chg13", "Pagamento estornado ao cliente").status == "cancelada"
    assert client.get("chg13").status == "cancelada"
    assert client.cancel("chg13", "Pagamento estornado ao cliente").status == "cancelada"  # nfe_cancelada


def test_focus_wrong_token_and_missing_fields(url: str) -> None:
    with pytest.raises(AuthenticationError):
        focus_client(url, token="wrong").get("chg1")
    auth = "Basic " + base64.b64encode(f"{focus_sandbox.DEMO_TOKEN}:".encode()).decode()
    resp = httpx.post(f"{url}/focusnfe/v2/nfsen", params={"ref": "x"}, json={}, headers={"Authorization": auth})
    assert resp.status_code == 400
    assert resp.json() == {
        "codigo": "requisicao_invalida",
        "mensagem": 'Parâmetro "codigo_municipio_emissora" não informado',
    }
    missing = httpx.get(f"{url}/focusnfe/v2/nfsen/none", headers={"Authorization": auth})
    assert (missing.status_code, missing.json()["codigo"]) == (404, "nao_encontrado")


def _jsonable(value: Any) -> Any:
    """The adapter's body for a raw httpx post (json= cannot write Decimal)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


# ----- withholding under NT 007: real scenarios through both emitters -------------------------
#
# The layout (NT 007, SE/CGNFS-e, Feb 2026; field roles in
# https://focusnfe.com.br/guides/nfse/nfse-nacional/retencao-pis-cofins-csll-irrf and Nuvem Fiscal's
# TribOutrosPisCofins / TribFederal / TribTotal): vPis/vCofins (valor_pis/valor_cofins) are the
# prestador's own contributions with CST, base and rates; tpRetPisCofins (tipo_retencao_pis_cofins)
# 0 or 3-9 says which of PIS, COFINS, CSLL were withheld; vRetCSLL (valor_csll) is their sum;
# the withholding total is vRetIRRF + vRetCSLL + the ISS when withheld; the net value is the
# service value less that total (deductions lower the ISS base only).

ALL_FEDERAL = frozenset({"IRRF", "PIS", "COFINS", "CSLL"})
CPF_TOMADOR, CNPJ_TOMADOR = "12345678909", "07504505000132"


@dataclass(frozen=True)
class Scenario:
    name: str
    simples: bool
    tomador: str
    amount_cents: int
    iss_withheld_by_tomador: bool = False
    deduction_cents: int = 0
    deduction_rate: Decimal | None = None
    # what the layout must carry, in reais (None = absent)
    iss_withheld: bool = False
    iss: Decimal = Decimal("0")
    irrf: Decimal | None = None
    code: int | None = None  # tpRetPisCofins
    retained: Decimal | None = None  # vRetCSLL = PIS + COFINS + CSLL withheld
    own: tuple[Decimal, Decimal] | None = None  # own vPis, vCofins
    total_withheld: Decimal = Decimal("0")
    net: Decimal = Decimal("0")


# Lucro presumido, a company taking the service: IRRF and CSRF withheld, own PIS/COFINS declared.
PRESUMIDO_CNPJ = Scenario(
    "presumido-cnpj",
    simples=False,
    tomador=CNPJ_TOMADOR,
    amount_cents=150_000,
    iss=Decimal("30.00"),
    irrf=Decimal("22.50"),
    code=3,
    retained=Decimal("69.75"),  # 9.75 + 45.00 + 15.00
    own=(Decimal("9.75"), Decimal("45.00")),
    total_withheld=Decimal("92.25"),
    net=Decimal("1407.75"),
)

SCENARIOS = [
    Scenario(
        "simples-cpf",
        simples=True,
        tomador=CPF_TOMADOR,
        amount_cents=150_000,
        iss=Decimal("30.00"),
        net=Decimal("1500.00"),
    ),
    Scenario(
        "simples-cnpj-iss-retained",
        simples=True,
        tomador=CNPJ_TOMADOR,
        amount_cents=150_000,
        iss_withheld_by_tomador=True,
        iss_withheld=True,
        iss=Decimal("30.00"),
        total_withheld=Decimal("30.00"),
        net=Decimal("1470.00"),
    ),
    Scenario(
        "presumido-cpf",  # no withholding by a person; own PIS/COFINS still declared
        simples=False,
        tomador=CPF_TOMADOR,
        amount_cents=150_000,
        iss_withheld_by_tomador=True,
        iss=Decimal("30.00"),
        code=0,
        own=(Decimal("9.75"), Decimal("45.00")),
        net=Decimal("1500.00"),
    ),
    PRESUMIDO_CNPJ,
    replace(
        PRESUMIDO_CNPJ,
        name="presumido-cnpj-iss-retained",
        iss_withheld_by_tomador=True,
        iss_withheld=True,
        total_withheld=Decimal("122.25"),
        net=Decimal("1377.75"),
    ),
    Scenario(
        "irrf-dispensed",  # IRRF 7.50 <= R$ 10 (Lei 9.430/1996 art. 67); CSRF 23.25 withheld
        simples=False,
        tomador=CNPJ_TOMADOR,
        amount_cents=50_000,
        iss=Decimal("10.00"),
        code=3,
        retained=Decimal("23.25"),
        own=(Decimal("3.25"), Decimal("15.00")),
        total_withheld=Decimal("23.25"),
        net=Decimal("476.75"),
    ),
    Scenario(
        "csrf-dispensed-at-10",  # PIS 1.40 + COFINS 6.45 + CSLL 2.15 = R$ 10.00 (art. 31 § 3)
        simples=False,
        tomador=CNPJ_TOMADOR,
        amount_cents=21_505,
        iss=Decimal("4.30"),
        code=0,
        own=(Decimal("1.40"), Decimal("6.45")),
        net=Decimal("215.05"),
    ),
    # R$ 500 deducted from the ISS base: ISS 2 % of 1000; the withholdings and net unchanged by it
    replace(PRESUMIDO_CNPJ, name="deduction-value", deduction_cents=50_000, iss=Decimal("20.00")),
    # 10 % deducted from the ISS base: ISS 2 % of 1350
    replace(PRESUMIDO_CNPJ, name="deduction-rate", deduction_rate=Decimal("10"), iss=Decimal("27.00")),
]


def scenario_request(sc: Scenario) -> NfseRequest:
    """The note the workflow builds (hub.fiscal.invoicing.nfse_request) for this scenario."""
    settings = FiscalSettings(
        prestador_cnpj=PRESTADOR_CNPJ,
        inscricao_municipal="998877",
        municipality_ibge="3550308",
        simples_nacional=sc.simples,
        c_trib_nac="010701",
        lc116_item="1.07",
        cnae="6201501",
        iss_rate=Decimal("2"),
        iss_withheld_by_tomador=sc.iss_withheld_by_tomador,
        federal_withholdings=ALL_FEDERAL,
        pis_cofins_regime=None if sc.simples else "cumulativo",
    )
    req = nfse_request(
        settings,
        {},
        reference=f"chgscenario{SCENARIOS.index(sc)}",
        amount_cents=sc.amount_cents,
        description="Desenvolvimento de software [POLLS=0]",
        tax_id=normalise_tax_id(sc.tomador, field="tomador"),
        name="Cliente",
        email=None,
        now=datetime(2026, 3, 10, 14, 30, tzinfo=UTC),
    )
    if sc.deduction_cents or sc.deduction_rate is not None:
        v = req.valores
        deduction = sc.deduction_cents or percent_of(v.service_cents, sc.deduction_rate or Decimal(0))
        valores = Valores(
            **{
                **v.model_dump(exclude={"own_pis_cofins"}),
                "deductions_cents": sc.deduction_cents,
                "deductions_rate": sc.deduction_rate,
                "iss_cents": percent_of(v.service_cents - deduction, v.iss_rate),
            },
            own_pis_cofins=v.own_pis_cofins,
        )
        req = req.model_copy(update={"valores": valores})
    return req


def _decimals(value: Any) -> Any:
    """A JSON body as the sandbox received it, numbers as exact Decimals."""
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def expected_dps_trib(sc: Scenario) -> dict[str, Any]:
    trib_mun: dict[str, Any] = {"tribISSQN": 1, "tpRetISSQN": 2 if sc.iss_withheld else 1}
    if sc.iss_withheld or not sc.simples:  # an ME/EPP without withholding omits pAliq (E0625)
        trib_mun["pAliq"] = 2
    trib: dict[str, Any] = {"tribMun": trib_mun}
    fed: dict[str, Any] = {}
    if sc.code is not None:
        piscofins: dict[str, Any] = {"CST": "01" if sc.own else "00"}
        if sc.own:
            piscofins.update(
                {
                    "vBCPisCofins": Decimal(sc.amount_cents) / 100,
                    "pAliqPis": Decimal("0.65"),
                    "pAliqCofins": Decimal("3.00"),
                    "vPis": sc.own[0],
                    "vCofins": sc.own[1],
                }
            )
        piscofins["tpRetPisCofins"] = sc.code
        fed["piscofins"] = piscofins
    if sc.irrf is not None:
        fed["vRetIRRF"] = sc.irrf
    if sc.retained is not None:
        fed["vRetCSLL"] = sc.retained
    if fed:
        trib["tribFed"] = fed
    if sc.own:
        trib["totTrib"] = {"vTotTrib": {"vTotTribFed": sum(sc.own), "vTotTribEst": 0, "vTotTribMun": sc.iss}}
    return trib


def expected_focus_fields(sc: Scenario) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "tipo_retencao_iss": 2 if sc.iss_withheld else 1,
        "percentual_aliquota_relativa_municipio": 2 if (sc.iss_withheld or not sc.simples) else None,
        "valor_irrf": sc.irrf,
        "tipo_retencao_pis_cofins": sc.code,
        "valor_csll": sc.retained,
        "situacao_tributaria_pis_cofins": "01" if sc.own else None,
        "base_calculo_pis_cofins": Decimal(sc.amount_cents) / 100 if sc.own else None,
        "aliquota_pis": Decimal("0.65") if sc.own else None,
        "aliquota_cofins": Decimal("3.00") if sc.own else None,
        "valor_pis": sc.own[0] if sc.own else None,
        "valor_cofins": sc.own[1] if sc.own else None,
        "valor_total_tributos_federais": sum(sc.own) if sc.own else None,
        "valor_total_tributos_estaduais": 0 if sc.own else None,
        "valor_total_tributos_municipais": sc.iss if sc.own else None,
        "valor_deducao_servico": Decimal(sc.deduction_cents) / 100 if sc.deduction_cents else None,
        "percentual_deducao_servico": sc.deduction_rate,
    }
    return fields


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_withholding_scenarios_through_both_emitters_match_the_layout(
    url: str, nf: NuvemFiscalSandbox, focus: FocusNfeSandbox, sc: Scenario
) -> None:
    # Given the note the workflow builds for the scenario
    req = scenario_request(sc)
    assert Decimal(req.valores.withheld_cents) / 100 == sc.total_withheld
    assert Decimal(req.valores.net_cents) / 100 == sc.net

    # When both emitters send it to their sandboxes
    nf_status = nf_client(url).emit_dps(req)
    focus_status = focus_client(url).emit(req)

    # Then both accept it (the sandboxes enforce NT 007) and every field is as the layout says
    assert nf_status.status == "autorizada"
    assert focus_status.status == "processando"
    assert nf_status.provider_id is not None
    nf_note = nf.notes[nf_status.provider_id]
    valores = _decimals(nf_note["dps"]["infDPS"]["valores"])
    assert valores["trib"] == expected_dps_trib(sc)
    if sc.deduction_cents:
        assert valores["vDedRed"] == {"vDR": Decimal(sc.deduction_cents) / 100}
    elif sc.deduction_rate is not None:
        assert valores["vDedRed"] == {"pDR": sc.deduction_rate}
    else:
        assert "vDedRed" not in valores
    rate_sent = sc.iss_withheld or not sc.simples  # else the national system applies the city's rate
    assert nf_note["totals"]["vISSQN"] == (sc.iss if rate_sent else 0)
    assert nf_note["totals"]["vTotalRet"] == sc.total_withheld
    assert nf_note["totals"]["vLiq"] == sc.net

    focus_note = focus.notes[req.reference]
    body = _decimals(focus_note["body"])
    assert {k: body.get(k) for k in expected_focus_fields(sc)} == expected_focus_fields(sc)
    assert focus_note["totals"]["valor_iss"] == (sc.iss if rate_sent else 0)
    assert focus_note["totals"]["valor_total_retencoes"] == sc.total_withheld
    assert focus_note["totals"]["valor_liquido"] == sc.net


def _legal_dps(url: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A Lucro Presumido note with every federal withholding, as the adapter sends it, and the auth."""
    client = nf_client(url)
    req = scenario_request(PRESUMIDO_CNPJ)
    return _jsonable(client.dps_body(req)), {"Authorization": f"Bearer {client.access_token()}"}


def _legal_focus(url: str) -> tuple[dict[str, Any], dict[str, str]]:
    body = _jsonable(focus_client(url).nfsen_body(scenario_request(PRESUMIDO_CNPJ)))
    return body, {"Authorization": "Basic " + base64.b64encode(f"{focus_sandbox.DEMO_TOKEN}:".encode()).decode()}


LEGACY_NF = [
    # the old layout: withheld PIS/COFINS in vPis/vCofins, "1 = retido", CSLL alone in vRetCSLL
    ("legacy-code-1", {"tpRetPisCofins": 1}, None, "tpRetPisCofins 1"),
    ("legacy-code-2", {"tpRetPisCofins": 2}, None, "tpRetPisCofins 2"),
    ("withheld-but-no-vRetCSLL", {"tpRetPisCofins": 3}, {"vRetCSLL": None}, "vRetCSLL"),
    ("vRetCSLL-with-code-0", {"tpRetPisCofins": 0}, None, "vRetCSLL"),
    ("own-vPis-not-base-x-rate", {"vPis": "15.00"}, None, "vPis"),
    ("withholding-total-above-service", None, {"vRetIRRF": "1500.00"}, "retenções"),
]


@pytest.mark.parametrize(("name", "piscofins", "fed", "message"), LEGACY_NF, ids=[c[0] for c in LEGACY_NF])
def test_nuvemfiscal_sandbox_refuses_legacy_codes_and_totals_that_do_not_add_up(
    url: str,
    nf: NuvemFiscalSandbox,
    name: str,
    piscofins: dict[str, Any] | None,
    fed: dict[str, Any] | None,
    message: str,
) -> None:
    body, headers = _legal_dps(url)
    trib_fed = body["infDPS"]["valores"]["trib"]["tribFed"]
    trib_fed["piscofins"].update(piscofins or {})
    for key, value in (fed or {}).items():
        if value is None:
            trib_fed.pop(key)
        else:
            trib_fed[key] = value
    resp = httpx.post(f"{url}/nuvemfiscal/nfse/dps", json=body, headers=headers)
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["error"]["message"]
    assert nf.emissions == 0


def test_nuvemfiscal_sandbox_refuses_a_description_over_1000_and_a_deduction_above_the_service(url: str) -> None:
    body, headers = _legal_dps(url)
    body["infDPS"]["serv"]["cServ"]["xDescServ"] = "x" * 1001
    resp = httpx.post(f"{url}/nuvemfiscal/nfse/dps", json=body, headers=headers)
    assert resp.status_code == 400 and "1000" in resp.json()["error"]["message"]
    body, headers = _legal_dps(url)
    body["infDPS"]["valores"]["vDedRed"] = {"vDR": "1500.00"}
    resp = httpx.post(f"{url}/nuvemfiscal/nfse/dps", json=body, headers=headers)
    assert resp.status_code == 400 and "dedu" in resp.json()["error"]["message"]


LEGACY_FOCUS = [
    ("legacy-code-1", {"tipo_retencao_pis_cofins": 1}, "tipo_retencao_pis_cofins"),
    ("legacy-code-2", {"tipo_retencao_pis_cofins": 2}, "tipo_retencao_pis_cofins"),
    ("withheld-but-no-valor_csll", {"valor_csll": None}, "valor_csll"),
    ("valor_csll-with-code-0", {"tipo_retencao_pis_cofins": 0}, "valor_csll"),
    ("own-valor_cofins-not-base-x-rate", {"valor_cofins": "69.75"}, "valor_cofins"),
    ("withholding-total-above-service", {"valor_irrf": "1450.00"}, "retenções"),
    ("both-deductions", {"valor_deducao_servico": "100.00", "percentual_deducao_servico": "10"}, "não ambos"),
    ("deduction-above-service", {"valor_deducao_servico": "1500.00"}, "dedução"),
    ("description-over-1000", {"descricao_servico": "x" * 1001}, "1000"),
]


@pytest.mark.parametrize(("name", "changes", "message"), LEGACY_FOCUS, ids=[c[0] for c in LEGACY_FOCUS])
def test_focus_sandbox_refuses_legacy_codes_and_totals_that_do_not_add_up(
    url: str, focus: FocusNfeSandbox, name: str, changes: dict[str, Any], message: str
) -> None:
    body, headers = _legal_focus(url)
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    resp = httpx.post(f"{url}/focusnfe/v2/nfsen", params={"ref": "chg99"}, json=body, headers=headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["codigo"] == "requisicao_invalida"
    assert message in resp.json()["mensagem"]
    assert focus.emissions == 0
