"""NuvemFiscalClient against Nuvem Fiscal's documented OAuth flow, DPS request, NFS-e statuses
and error bodies (https://dev.nuvemfiscal.com.br/docs/autenticacao, the SDKs' NfseApi docs,
https://suporte.nuvemfiscal.com.br/t/status-400-no-retorno/4111)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError, RateLimitedError
from hub.fiscal.invoicing import service_description
from hub.fiscal.nfse_models import (
    Address,
    IbsCbs,
    NfseRequest,
    OwnPisCofins,
    Prestador,
    Servico,
    Tomador,
    Valores,
)
from hub.payments.store import ChargeRecord
from hub.providers.nuvemfiscal import client as nuvemfiscal
from hub.providers.nuvemfiscal.client import NuvemFiscalClient, NuvemFiscalCredentials, dumps_json
from tests.helpers import client_with as mock_client

API = "https://api.nuvemfiscal.com.br"
AUTH = "https://auth.nuvemfiscal.com.br/oauth/token"
CREDS = NuvemFiscalCredentials(client_id="client-1", client_secret=SecretStr("s3cr3t"), ambiente="homologacao")
NOTE_ID = "nfs_8f1b2c3d4e5f60718293a4b5c6d7e8f9"


def request_(**overrides: Any) -> NfseRequest:
    values: dict[str, Any] = {
        "reference": "chg123",
        "issued_at": datetime(2026, 3, 10, 14, 30, tzinfo=UTC),
        "competence": date(2026, 3, 10),
        "prestador": Prestador(cnpj="12345678000195", inscricao_municipal="998877", municipality_ibge="3550308"),
        "tomador": Tomador(
            tax_id="12ABC34501DE35",
            name="Cliente Exemplo Ltda",
            email="financeiro@cliente.com.br",
            address=Address(
                street="Av. Paulista", number="1000", district="Bela Vista", municipality_ibge="3550308", cep="01310100"
            ),
        ),
        "servico": Servico(
            ctribnac="010701",
            lc116_item="1.07",
            cnae="6201501",
            description="Desenvolvimento de site institucional",
            municipality_ibge="3550308",
        ),
        "valores": Valores(
            service_cents=150_000,
            iss_rate=Decimal("2.00"),
            iss_cents=3_000,
            irrf_cents=2_250,
            pis_cents=975,
            cofins_cents=4_500,
            csll_cents=1_500,
            # A Lucro Presumido prestador (cumulative regime): its own PIS 0.65 % and COFINS 3 %.
            own_pis_cofins=OwnPisCofins.at_rates(150_000, Decimal("0.65"), Decimal("3.00")),
        ),
    }
    values.update(overrides)
    return NfseRequest(**values)


def note(status: str = "processando", **extra: Any) -> dict[str, Any]:
    return {
        "id": NOTE_ID,
        "created_at": "2026-03-10T14:30:01Z",
        "status": status,
        "numero": None,
        "codigo_verificacao": None,
        "ambiente": "homologacao",
        "referencia": "chg123",
        "mensagens": [],
        **extra,
    }


def token_response(value: str = "tok-1", expires_in: int = 2_592_000) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": value, "token_type": "bearer", "expires_in": expires_in, "scope": "nfse cnpj"}
    )


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    nuvemfiscal.clear_token_cache()
    yield
    nuvemfiscal.clear_token_cache()


Handler = Callable[[httpx.Request], httpx.Response]


def routed_client(
    api: Handler, *, token: Handler | None = None, attempts: int = 1
) -> tuple[NuvemFiscalClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def route(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if str(request.url) == AUTH:
            return (token or (lambda _: token_response()))(request)
        return api(request)

    return mock_client(NuvemFiscalClient, CREDS, route, attempts=attempts), seen


def api_calls(seen: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in seen if str(r.url) != AUTH]


# ----- OAuth ---------------------------------------------------------------------------------


def test_the_token_is_requested_with_the_documented_form_and_sent_as_bearer() -> None:
    client, seen = routed_client(lambda r: httpx.Response(200, json=note("autorizada", numero="15")))
    client.get_nfse(NOTE_ID)

    token_call, api_call = seen
    assert token_call.method == "POST"
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_call.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["client-1"],
        "client_secret": ["s3cr3t"],
        "scope": ["nfse cnpj"],
    }
    assert "authorization" not in token_call.headers
    assert str(api_call.url) == f"{API}/nfse/{NOTE_ID}"
    assert api_call.headers["authorization"] == "Bearer tok-1"


def test_the_token_is_cached_across_calls_and_clients() -> None:
    client, seen = routed_client(lambda r: httpx.Response(200, json=note()))
    client.get_nfse(NOTE_ID)
    client.get_nfse(NOTE_ID)
    other, other_seen = routed_client(lambda r: httpx.Response(200, json=note()))
    other.get_nfse(NOTE_ID)

    assert [str(r.url) for r in seen].count(AUTH) == 1
    assert [str(r.url) for r in other_seen].count(AUTH) == 0  # a warm container reuses it
    assert other_seen[0].headers["authorization"] == "Bearer tok-1"


def test_an_expired_token_is_refreshed_before_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(nuvemfiscal, "_now", lambda: clock[0])
    tokens = iter(["tok-1", "tok-2"])
    client, seen = routed_client(
        lambda r: httpx.Response(200, json=note()), token=lambda r: token_response(next(tokens), expires_in=3600)
    )
    client.get_nfse(NOTE_ID)
    clock[0] += 3600 - 30  # inside the refresh margin: not used any more
    client.get_nfse(NOTE_ID)

    assert [r.headers.get("authorization") for r in api_calls(seen)] == ["Bearer tok-1", "Bearer tok-2"]


def test_a_401_drops_the_cached_token_and_retries_once_with_a_new_one() -> None:
    tokens = iter(["stale", "fresh"])

    def api(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer stale":
            return httpx.Response(401, json={"error": {"code": "Unauthorized", "message": "Token expirado"}})
        return httpx.Response(200, json=note("autorizada", numero="7"))

    client, seen = routed_client(api, token=lambda r: token_response(next(tokens)))
    status = client.get_nfse(NOTE_ID)

    assert status.status == "autorizada"
    assert [r.headers["authorization"] for r in api_calls(seen)] == ["Bearer stale", "Bearer fresh"]


def test_a_second_401_with_a_fresh_token_is_an_authentication_error() -> None:
    client, seen = routed_client(
        lambda r: httpx.Response(401, json={"error": {"code": "Unauthorized", "message": "Sem permissão"}})
    )
    with pytest.raises(AuthenticationError) as info:
        client.get_nfse(NOTE_ID)
    assert info.value.http_status == 401
    assert len(api_calls(seen)) == 2


def test_wrong_client_credentials_are_an_authentication_error_without_the_secret() -> None:
    client, _ = routed_client(
        lambda r: httpx.Response(200, json=note()),
        token=lambda r: httpx.Response(401, json={"error": "invalid_client", "error_description": "Bad client"}),
    )
    with pytest.raises(AuthenticationError) as info:
        client.get_nfse(NOTE_ID)
    assert "s3cr3t" not in str(info.value.to_dict())


def test_an_oauth_400_invalid_scope_is_an_authentication_error() -> None:
    client, _ = routed_client(
        lambda r: httpx.Response(200, json=note()), token=lambda r: httpx.Response(400, json={"error": "invalid_scope"})
    )
    with pytest.raises(AuthenticationError) as info:
        client.get_nfse(NOTE_ID)
    assert info.value.code == "invalid_scope"


def test_the_token_url_comes_from_the_secret() -> None:
    creds = NuvemFiscalClient.parse_credentials(
        {
            "client_id": "c",
            "client_secret": "s",
            "ambiente": "homologacao",
            "auth_url": "http://127.0.0.1:4010/nuvemfiscal/oauth/token",
            "base_url": "http://127.0.0.1:4010/nuvemfiscal",
        }
    )
    seen: list[str] = []

    def route(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path.endswith("/oauth/token"):
            return token_response()
        return httpx.Response(200, json=note())

    client = NuvemFiscalClient(creds, http=httpx.Client(transport=httpx.MockTransport(route)))
    client.get_nfse(NOTE_ID)
    assert seen == [
        "http://127.0.0.1:4010/nuvemfiscal/oauth/token",
        f"http://127.0.0.1:4010/nuvemfiscal/nfse/{NOTE_ID}",
    ]


# ----- emission ------------------------------------------------------------------------------


def test_emit_dps_posts_the_national_layout_with_our_charge_id_as_referencia() -> None:
    posted: list[dict[str, Any]] = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": []})
        posted.append(json.loads(request.content, parse_float=Decimal))
        return httpx.Response(200, json=note())

    client, seen = routed_client(api)
    status = client.emit_dps(request_())

    lookup = api_calls(seen)[0]
    assert lookup.url.path == "/nfse"
    assert dict(lookup.url.params) == {"cpf_cnpj": "12345678000195", "ambiente": "homologacao", "referencia": "chg123"}
    [body] = posted
    assert body["provedor"] == "padrao"
    assert body["ambiente"] == "homologacao"
    assert body["referencia"] == "chg123"
    inf = body["infDPS"]
    assert inf["tpAmb"] == 2
    assert inf["dhEmi"] == "2026-03-10T14:30:00+00:00"
    assert inf["dCompet"] == "2026-03-10"
    assert inf["prest"] == {"CNPJ": "12345678000195"}
    assert inf["toma"]["CNPJ"] == "12ABC34501DE35"
    assert inf["toma"]["end"]["endNac"] == {"cMun": "3550308", "CEP": "01310100"}
    assert inf["serv"]["cServ"] == {
        "cTribNac": "010701",
        "xDescServ": "Desenvolvimento de site institucional",
        "CNAE": "6201501",
    }
    assert inf["valores"]["vServPrest"] == {"vServ": Decimal("1500.00")}
    assert inf["valores"]["trib"]["tribMun"] == {"tribISSQN": 1, "tpRetISSQN": 1, "pAliq": Decimal("2.00")}
    # NT 007 (https://focusnfe.com.br/guides/nfse/nfse-nacional/retencao-pis-cofins-csll-irrf):
    # vPis/vCofins are the prestador's own contributions, tpRetPisCofins 3 = PIS, COFINS and CSLL
    # withheld (1 "retido" is the legacy code) and vRetCSLL = 9.75 + 45.00 + 15.00 withheld.
    assert inf["valores"]["trib"]["tribFed"] == {
        "piscofins": {
            "CST": "01",
            "vBCPisCofins": Decimal("1500.00"),
            "pAliqPis": Decimal("0.65"),
            "pAliqCofins": Decimal("3.00"),
            "vPis": Decimal("9.75"),
            "vCofins": Decimal("45.00"),
            "tpRetPisCofins": 3,
        },
        "vRetIRRF": Decimal("22.50"),
        "vRetCSLL": Decimal("69.75"),
    }
    # TribTotal outside the Simples: own PIS + COFINS, no state tax, the ISS.
    assert inf["valores"]["trib"]["totTrib"] == {
        "vTotTrib": {"vTotTribFed": Decimal("54.75"), "vTotTribEst": Decimal("0.00"), "vTotTribMun": Decimal("30.00")}
    }
    assert "IBSCBS" not in inf
    assert b"1500.00" in api_calls(seen)[1].content  # a JSON number, exact, never a float
    assert status.status == "processando"
    assert status.provider == "nuvemfiscal"
    assert status.provider_id == NOTE_ID


def test_the_ibs_cbs_group_goes_in_when_the_request_has_it() -> None:
    ibs = IbsCbs.test_year(base_cents=150_000, cst="000", cclasstrib="000001", cind_op="030102")
    assert (ibs.cbs_cents, ibs.ibs_cents) == (1_350, 150)
    body = routed_client(lambda r: httpx.Response(200))[0].dps_body(request_(ibs_cbs=ibs))
    assert body["infDPS"]["IBSCBS"] == {
        "finNFSe": 0,
        "indFinal": 0,
        "cIndOp": "030102",
        "indDest": 0,
        "valores": {"trib": {"gIBSCBS": {"CST": "000", "cClassTrib": "000001"}}},
    }


def test_an_me_epp_in_the_simples_without_withholding_sends_no_iss_rate() -> None:
    req = request_(
        prestador=Prestador(
            cnpj="12345678000195", municipality_ibge="3550308", simples_nacional_option=3, simples_nacional_regime=1
        ),
        valores=Valores(service_cents=10_000, iss_rate=Decimal("2.00"), iss_cents=200),
    )
    body = routed_client(lambda r: httpx.Response(200))[0].dps_body(req)
    assert body["infDPS"]["valores"]["trib"] == {"tribMun": {"tribISSQN": 1, "tpRetISSQN": 1}}


def test_the_same_reference_twice_emits_once() -> None:
    posts: list[httpx.Request] = []
    state: dict[str, Any] = {"notes": []}

    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            state["notes"] = [note()]
            return httpx.Response(200, json=note())
        return httpx.Response(200, json={"@count": len(state["notes"]), "data": state["notes"]})

    client, _ = routed_client(api)
    first = client.emit_dps(request_())
    second = client.emit_dps(request_())

    assert len(posts) == 1
    assert first.provider_id == second.provider_id == NOTE_ID


def test_a_create_that_timed_out_but_succeeded_is_found_by_reference() -> None:
    lookups = {"n": 0}

    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("slow", request=request)
        lookups["n"] += 1
        return httpx.Response(200, json={"data": [] if lookups["n"] == 1 else [note()]})

    status = routed_client(api)[0].emit_dps(request_())
    assert status.provider_id == NOTE_ID
    assert lookups["n"] == 2


def test_a_5xx_on_create_with_nothing_created_is_provider_unavailable() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(503, json={"error": {"code": "ServiceUnavailable", "message": "Indisponível"}})
        return httpx.Response(200, json={"data": []})

    with pytest.raises(ProviderUnavailableError):
        routed_client(api)[0].emit_dps(request_())


def test_a_validation_error_is_invalid_request_with_the_documented_code_and_message() -> None:
    body = {
        "error": {
            "code": "ValidationFailed",
            "message": "Validation failed: O campo 'infDPS.toma.end.endNac.CEP' não corresponde ao formato esperado",
            "errors": [{"code": "InvalidFormat", "message": "…"}],
        }
    }

    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": []})
        return httpx.Response(400, json=body)

    with pytest.raises(InvalidRequestError) as info:
        routed_client(api)[0].emit_dps(request_())
    assert info.value.code == "ValidationFailed"
    assert "CEP" in info.value.message


def test_429_is_rate_limited_with_retry_after() -> None:
    client, _ = routed_client(
        lambda r: httpx.Response(
            429, headers={"Retry-After": "7"}, json={"error": {"code": "TooManyRequests", "message": "x"}}
        )
    )
    with pytest.raises(RateLimitedError) as info:
        client.get_nfse(NOTE_ID)
    assert info.value.retry_after == 7


# ----- statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("processando", "processando"),
        ("autorizada", "autorizada"),
        ("negada", "negada"),
        ("erro", "negada"),
        ("cancelada", "cancelada"),
        ("substituida", "cancelada"),
    ],
)
def test_statuses_map_to_ours(raw: str, expected: str) -> None:
    status = routed_client(lambda r: httpx.Response(200, json=note(raw)))[0].get_nfse(NOTE_ID)
    assert status.status == expected
    assert status.raw_status == raw


def test_an_authorized_note_has_number_code_and_file_urls() -> None:
    status = routed_client(
        lambda r: httpx.Response(200, json=note("autorizada", numero="1542", codigo_verificacao="AB12CD34"))
    )[0].get_nfse(NOTE_ID)
    assert (status.number, status.verification_code) == ("1542", "AB12CD34")
    assert status.pdf_url == f"{API}/nfse/{NOTE_ID}/pdf"
    assert status.xml_url == f"{API}/nfse/{NOTE_ID}/xml"
    assert status.reasons == []


def test_a_denied_note_surfaces_the_providers_reasons() -> None:
    mensagens = [{"codigo": "E0312", "descricao": "Tomador   irregular", "correcao": "Verifique o CNPJ"}]
    status = routed_client(lambda r: httpx.Response(200, json=note("negada", mensagens=mensagens)))[0].get_nfse(NOTE_ID)
    assert status.status == "negada"
    assert status.reasons == ["E0312: Tomador irregular (correção: Verifique o CNPJ)"]
    assert status.pdf_url is None


def test_an_unknown_status_is_not_silently_mapped() -> None:
    with pytest.raises(ProviderUnavailableError):
        routed_client(lambda r: httpx.Response(200, json=note("algo_novo")))[0].get_nfse(NOTE_ID)


# ----- files, cancellation, CNPJ -------------------------------------------------------------


def test_download_pdf_and_xml_return_bytes() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/pdf"):
            return httpx.Response(200, content=b"%PDF-1.4 danfse", headers={"content-type": "application/pdf"})
        return httpx.Response(200, content=b"<NFSe/>", headers={"content-type": "application/xml"})

    client, seen = routed_client(api)
    assert client.download_pdf(NOTE_ID) == b"%PDF-1.4 danfse"
    assert client.download_xml(NOTE_ID) == b"<NFSe/>"
    assert [r.url.path for r in api_calls(seen)] == [f"/nfse/{NOTE_ID}/pdf", f"/nfse/{NOTE_ID}/xml"]


def test_cancel_posts_the_reason_and_maps_the_answer() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"motivo": "Pagamento estornado ao cliente"}
        return httpx.Response(200, json={"id": "can_1", "status": "concluido", "mensagens": []})

    client, seen = routed_client(api)
    result = client.cancel(NOTE_ID, "Pagamento estornado ao cliente")
    assert result.status == "cancelada"
    assert api_calls(seen)[0].url.path == f"/nfse/{NOTE_ID}/cancelamento"


def test_a_rejected_cancellation_keeps_the_reasons() -> None:
    body = {"status": "rejeitado", "mensagens": [{"codigo": "E0840", "descricao": "Prazo de cancelamento expirado"}]}
    result = routed_client(lambda r: httpx.Response(200, json=body))[0].cancel(NOTE_ID, "Estorno do pagamento")
    assert result.status == "rejeitada"
    assert result.reasons == ["E0840: Prazo de cancelamento expirado"]


@pytest.mark.parametrize(("descricao", "codigo", "ativa"), [("ATIVA", "02", True), ("BAIXADA", "08", False)])
def test_cnpj_lookup_reports_the_situacao_cadastral(descricao: str, codigo: str, ativa: bool) -> None:
    body = {
        "cnpj": "12345678000195",
        "razao_social": "ACME LTDA",
        "situacao_cadastral": {"data": "2005-11-03", "codigo": codigo, "descricao": descricao},
    }
    client, seen = routed_client(lambda r: httpx.Response(200, json=body))
    result = client.cnpj_lookup("12345678000195")
    assert api_calls(seen)[0].url.path == "/cnpj/12345678000195"
    assert result["situacao_cadastral"] == descricao
    assert result["ativa"] is ativa


# ----- model guards --------------------------------------------------------------------------


def test_money_and_rates_refuse_floats() -> None:
    with pytest.raises(ValidationError):
        Valores(service_cents=100.0, iss_rate=Decimal("2"), iss_cents=2)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Valores(service_cents=100, iss_rate=2.0, iss_cents=2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dumps_json({"v": 1.5})


def test_dumps_json_writes_decimals_as_exact_numbers() -> None:
    assert dumps_json({"v": Decimal("10.50"), "s": "ção", "n": None, "b": True, "l": [1]}) == (
        '{"v":10.50,"s":"ção","n":null,"b":true,"l":[1]}'.encode()
    )


# ----- NT 007 details, deductions and the description limit ---------------------------------


def test_a_person_tomador_withholds_nothing_but_own_pis_cofins_are_declared_with_code_0() -> None:
    valores = Valores(
        service_cents=150_000,
        iss_rate=Decimal("2.00"),
        iss_cents=3_000,
        own_pis_cofins=OwnPisCofins.at_rates(150_000, Decimal("0.65"), Decimal("3.00")),
    )
    body = routed_client(lambda r: httpx.Response(200))[0].dps_body(request_(valores=valores))
    trib_fed = body["infDPS"]["valores"]["trib"]["tribFed"]
    assert trib_fed["piscofins"]["tpRetPisCofins"] == 0
    assert "vRetCSLL" not in trib_fed


@pytest.mark.parametrize(
    ("extra", "ded_red"),
    [
        ({"deductions_cents": 50_000}, {"vDR": Decimal("500.00")}),
        ({"deductions_rate": Decimal("10")}, {"pDR": Decimal("10")}),
    ],
)
def test_deductions_go_in_vdedred_as_a_value_or_a_percentage(extra: dict[str, Any], ded_red: dict[str, Any]) -> None:
    valores = Valores(service_cents=150_000, iss_rate=Decimal("2.00"), iss_cents=2_000, **extra)
    body = routed_client(lambda r: httpx.Response(200))[0].dps_body(request_(valores=valores))
    assert body["infDPS"]["valores"]["vDedRed"] == ded_red


def test_a_value_and_a_percentage_of_deduction_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="not both"):
        Valores(
            service_cents=150_000,
            iss_rate=Decimal("2.00"),
            iss_cents=2_000,
            deductions_cents=100,
            deductions_rate=Decimal("10"),
        )


def test_own_pis_cofins_are_refused_for_a_simples_nacional_prestador() -> None:
    with pytest.raises(ValidationError, match="Simples"):
        request_(
            prestador=Prestador(
                cnpj="12345678000195", municipality_ibge="3550308", simples_nacional_option=3, simples_nacional_regime=1
            )
        )


def test_a_description_longer_than_xdescserv_takes_is_refused() -> None:
    # xDescServ (and Focus's descricao_servico) hold 1000 characters.
    Servico(ctribnac="010701", lc116_item="1.07", description="x" * 1000, municipality_ibge="3550308")
    with pytest.raises(ValidationError, match="1000"):
        Servico(ctribnac="010701", lc116_item="1.07", description="x" * 1001, municipality_ibge="3550308")


def test_the_workflow_refuses_a_long_description_before_emitting_naming_the_field() -> None:
    charge = ChargeRecord(
        org_id="org1", charge_id="chg123", status="RECEIVED", amount_cents=150_000, description="x" * 1001
    )
    with pytest.raises(InvalidRequestError, match="description") as caught:
        service_description(charge)
    assert caught.value.code == "description_too_long"
    assert service_description(charge.model_copy(update={"description": "x" * 1000})) == "x" * 1000
