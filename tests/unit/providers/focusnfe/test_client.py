"""FocusNfeClient against Focus NFe's documented NFS-e Nacional requests, responses and error
codes (https://focusnfe.com.br/doc/#nfse-nacional)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError
from hub.fiscal.nfse_models import IbsCbs, NfseRequest, OwnPisCofins, Prestador, Servico, Tomador, Valores
from hub.providers.focusnfe.client import (
    HOMOLOGACAO_BASE_URL,
    PRODUCTION_BASE_URL,
    FocusNfeClient,
    FocusNfeCredentials,
    retencao_pis_cofins_code,
)
from tests.helpers import AdapterFactory, recording

CREDS = FocusNfeCredentials(token=SecretStr("focus-token-123"), environment="producao")
REF = "chg123"
AUTHORIZED: dict[str, Any] = {
    "cnpj_prestador": "12345678000195",
    "ref": REF,
    "numero_rps": "123",
    "serie_rps": "1",
    "tipo_rps": "1",
    "status": "autorizado",
    "numero": "1245",
    "codigo_verificacao": "12345678901234567890",
    "data_emissao": "2026-03-10T11:30:00-03:00",
    "url": "https://www.nfse.gov.br/consultapublica/?tpc=1&chave=123",
    "caminho_xml_nota_fiscal": "/arquivos/12345678000195_166/202603/XMLsNFSe/123-nfse.xml",
    "url_danfse": "https://focusnfe.s3.sa-east-1.amazonaws.com/arquivos/12345678000195_166/202603/DANFSEs/123.pdf",
}
NOT_FOUND = {"codigo": "nao_encontrado", "mensagem": "Nota fiscal não encontrada"}


def request_(**overrides: Any) -> NfseRequest:
    values: dict[str, Any] = {
        "reference": REF,
        "issued_at": datetime(2026, 3, 10, 14, 30, tzinfo=UTC),
        "competence": date(2026, 3, 10),
        "prestador": Prestador(cnpj="12345678000195", inscricao_municipal="998877", municipality_ibge="4106902"),
        "tomador": Tomador(tax_id="07504505000132", name="Acras Tecnologia", email="contato@acras.com.br"),
        "servico": Servico(
            ctribnac="010701", lc116_item="1.07", description="Desenvolvimento de software", municipality_ibge="4106902"
        ),
        "valores": Valores(service_cents=100, iss_rate=Decimal("2.00"), iss_cents=2),
    }
    values.update(overrides)
    return NfseRequest(**values)


client_with = AdapterFactory(FocusNfeClient, CREDS, attempts=1)


def test_auth_is_basic_with_the_token_as_username_and_an_empty_password() -> None:
    seen, handler = recording(httpx.Response(200, json=AUTHORIZED))

    client_with(handler).get(REF)
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(b"focus-token-123:").decode()
    assert str(seen[0].url) == f"{PRODUCTION_BASE_URL}/v2/nfsen/{REF}"


def test_homologacao_uses_its_own_host() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=AUTHORIZED)

    creds = FocusNfeCredentials(token=SecretStr("t"), environment="homologacao")
    client_with(handler, creds=creds).get(REF)
    assert seen == [f"{HOMOLOGACAO_BASE_URL}/v2/nfsen/{REF}"]


def test_emit_posts_the_nfse_nacional_body_with_our_charge_id_as_ref() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(404, json=NOT_FOUND)
        return httpx.Response(
            202, json={"cnpj_prestador": "12345678000195", "ref": REF, "status": "processando_autorizacao"}
        )

    status = client_with(handler).emit(request_())

    lookup, post = seen
    assert lookup.method == "GET" and lookup.url.path == f"/v2/nfsen/{REF}"
    assert post.method == "POST"
    assert post.url.path == "/v2/nfsen"
    assert dict(post.url.params) == {"ref": REF}
    body = json.loads(post.content, parse_float=Decimal)
    assert body == {
        "data_emissao": "2026-03-10T14:30:00+00:00",
        "data_competencia": "2026-03-10",
        "codigo_municipio_emissora": 4106902,
        "cnpj_prestador": "12345678000195",
        "inscricao_municipal_prestador": "998877",
        "codigo_opcao_simples_nacional": 1,
        "regime_especial_tributacao": 0,
        "cnpj_tomador": "07504505000132",
        "razao_social_tomador": "Acras Tecnologia",
        "email_tomador": "contato@acras.com.br",
        "codigo_municipio_prestacao": 4106902,
        "codigo_tributacao_nacional_iss": "010701",
        "descricao_servico": "Desenvolvimento de software",
        "valor_servico": Decimal("1.00"),
        "tributacao_iss": 1,
        "tipo_retencao_iss": 1,
        "percentual_aliquota_relativa_municipio": Decimal("2.00"),
    }
    assert b'"valor_servico":1.00' in post.content
    assert status.status == "processando"
    assert status.provider == "focusnfe"
    assert status.provider_id == REF


def test_withholdings_and_the_ibs_cbs_fields() -> None:
    req = request_(
        tomador=Tomador(tax_id="12345678909", name="Maria"),
        valores=Valores(
            service_cents=150_000,
            iss_rate=Decimal("5"),
            iss_cents=7_500,
            iss_withheld=True,
            irrf_cents=2_250,
            pis_cents=975,
            cofins_cents=4_500,
            csll_cents=1_500,
        ),
        ibs_cbs=IbsCbs.test_year(
            base_cents=150_000, cst="000", cclasstrib="000001", cind_op="030102", final_consumer=True
        ),
    )
    body = client_with(lambda r: httpx.Response(200)).nfsen_body(req)
    assert body["cpf_tomador"] == "12345678909"
    assert "cnpj_tomador" not in body
    assert body["tipo_retencao_iss"] == 2
    assert body["valor_irrf"] == Decimal("22.50")
    assert body["tipo_retencao_pis_cofins"] == 3
    assert body["valor_csll"] == Decimal("69.75")  # PIS + COFINS + CSLL withheld
    assert {
        k: body[k]
        for k in (
            "finalidade_emissao",
            "consumidor_final",
            "indicador_destinatario",
            "codigo_indicador_operacao",
            "ibs_cbs_situacao_tributaria",
            "ibs_cbs_classificacao_tributaria",
        )
    } == {
        "finalidade_emissao": 0,
        "consumidor_final": 1,
        "indicador_destinatario": 0,
        "codigo_indicador_operacao": "030102",
        "ibs_cbs_situacao_tributaria": "000",
        "ibs_cbs_classificacao_tributaria": "000001",
    }


@pytest.mark.parametrize(
    ("pis", "cofins", "csll", "code"),
    [
        (False, False, False, 0),
        (True, True, True, 3),
        (True, True, False, 4),
        (True, False, False, 5),
        (False, True, False, 6),
        (False, True, True, 7),
        (False, False, True, 8),
        (True, False, True, 9),
    ],
)
def test_retention_code_covers_every_combination(pis: bool, cofins: bool, csll: bool, code: int) -> None:
    assert retencao_pis_cofins_code(pis, cofins, csll) == code


def test_an_existing_ref_is_reported_not_posted_again() -> None:
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        return httpx.Response(200, json=AUTHORIZED)

    status = client_with(handler).emit(request_())
    assert methods == ["GET"]
    assert status.status == "autorizada"


@pytest.mark.parametrize("code", ["em_processamento", "nfe_autorizada"])
def test_focus_answering_the_ref_exists_means_fetch_its_status(code: str) -> None:
    gets = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(422, json={"codigo": code, "mensagem": "Nota fiscal em processamento"})
        gets["n"] += 1
        if gets["n"] == 1:  # a concurrent emission got in between our lookup and our POST
            return httpx.Response(404, json=NOT_FOUND)
        return httpx.Response(200, json={**AUTHORIZED, "status": "processando_autorizacao"})

    status = client_with(handler).emit(request_())
    assert status.status == "processando"
    assert gets["n"] == 2


def test_a_timed_out_post_that_was_accepted_is_found() -> None:
    gets = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("slow", request=request)
        gets["n"] += 1
        if gets["n"] == 1:
            return httpx.Response(404, json=NOT_FOUND)
        return httpx.Response(200, json={"cnpj_prestador": "1", "ref": REF, "status": "processando_autorizacao"})

    assert client_with(handler).emit(request_()).status == "processando"


def test_a_timed_out_post_that_created_nothing_is_provider_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(404, json=NOT_FOUND)

    with pytest.raises(ProviderUnavailableError):
        client_with(handler).emit(request_())


def test_requisicao_invalida_is_invalid_request_with_focus_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(404, json=NOT_FOUND)
        return httpx.Response(
            400,
            json={"codigo": "requisicao_invalida", "mensagem": 'Parâmetro "codigo_municipio_emissora" não informado'},
        )

    with pytest.raises(InvalidRequestError) as info:
        client_with(handler).emit(request_())
    assert info.value.code == "requisicao_invalida"
    assert "codigo_municipio_emissora" in info.value.message


def test_a_bad_token_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError):
        client_with(
            lambda r: httpx.Response(
                403, json={"codigo": "permissao_negada", "mensagem": "CNPJ do emitente não autorizado."}
            )
        ).get(REF)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("processando_autorizacao", "processando"),
        ("autorizado", "autorizada"),
        ("erro_autorizacao", "negada"),
        ("cancelado", "cancelada"),
    ],
)
def test_statuses_map_to_ours(raw: str, expected: str) -> None:
    status = client_with(lambda r: httpx.Response(200, json={**AUTHORIZED, "status": raw})).get(REF)
    assert status.status == expected


def test_an_authorized_note_gives_the_danfse_and_the_xml_url_on_the_api_host() -> None:
    status = client_with(lambda r: httpx.Response(200, json=AUTHORIZED)).get(REF)
    assert status.number == "1245"
    assert status.verification_code == "12345678901234567890"
    assert status.pdf_url == AUTHORIZED["url_danfse"]
    assert status.xml_url == f"{PRODUCTION_BASE_URL}{AUTHORIZED['caminho_xml_nota_fiscal']}"


def test_erro_autorizacao_surfaces_the_reasons() -> None:
    body = {
        "cnpj_prestador": "12345678000195",
        "ref": REF,
        "status": "erro_autorizacao",
        "erros": [{"codigo": "E0014", "mensagem": "Conjunto de Série, Número … já existe", "correcao": None}],
    }
    status = client_with(lambda r: httpx.Response(200, json=body)).get(REF)
    assert status.status == "negada"
    assert status.reasons == ["E0014: Conjunto de Série, Número … já existe"]


def test_cancel_sends_the_justification_in_a_delete_body() -> None:
    seen, handler = recording(httpx.Response(200, json={"status": "cancelado"}))

    result = client_with(handler).cancel(REF, "Pagamento estornado ao cliente")
    assert seen[0].method == "DELETE"
    assert seen[0].url.path == f"/v2/nfsen/{REF}"
    assert json.loads(seen[0].content) == {"justificativa": "Pagamento estornado ao cliente"}
    assert result.status == "cancelada"


def test_cancel_errors_and_already_cancelled() -> None:
    rejected = {"status": "erro_cancelamento", "erros": [{"codigo": "E523", "mensagem": "fora do prazo"}]}
    result = client_with(lambda r: httpx.Response(200, json=rejected)).cancel(REF, "Pagamento estornado ao cliente")
    assert (result.status, result.reasons) == ("rejeitada", ["E523: fora do prazo"])

    already = client_with(
        lambda r: httpx.Response(400, json={"codigo": "nfe_cancelada", "mensagem": "Nota Fiscal já cancelada"})
    ).cancel(REF, "Pagamento estornado ao cliente")
    assert already.status == "cancelada"


def test_a_short_justification_is_refused_before_calling_focus() -> None:
    calls: list[httpx.Request] = []
    with pytest.raises(InvalidRequestError):
        client_with(lambda r: calls.append(r) or httpx.Response(200)).cancel(REF, "curta")
    assert calls == []


def test_the_danfse_on_s3_is_fetched_without_the_token_and_the_xml_with_it() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == f"/v2/nfsen/{REF}":
            return httpx.Response(200, json=AUTHORIZED)
        if request.url.host.endswith("amazonaws.com"):
            return httpx.Response(200, content=b"%PDF-1.4 danfse")
        return httpx.Response(200, content=b"<NFSe/>")

    client = client_with(handler)
    assert client.download_pdf(REF) == b"%PDF-1.4 danfse"
    assert client.download_xml(REF) == b"<NFSe/>"
    pdf = next(r for r in seen if r.url.host.endswith("amazonaws.com"))
    xml = next(r for r in seen if r.url.path.endswith("nfse.xml"))
    assert "authorization" not in pdf.headers
    assert xml.headers["authorization"].startswith("Basic ")


# ----- NT 007: own PIS/COFINS, totTrib and deductions ------------------------------------------


def lucro_presumido_values(**extra: Any) -> Valores:
    return Valores(
        service_cents=150_000,
        iss_rate=Decimal("2.00"),
        iss_cents=extra.pop("iss_cents", 3_000),
        irrf_cents=2_250,
        pis_cents=975,
        cofins_cents=4_500,
        csll_cents=1_500,
        own_pis_cofins=OwnPisCofins.at_rates(150_000, Decimal("0.65"), Decimal("3.00")),
        **extra,
    )


def test_own_pis_cofins_and_tot_trib_go_in_the_nt007_fields() -> None:
    # https://focusnfe.com.br/guides/nfse/nfse-nacional/retencao-pis-cofins-csll-irrf: valor_pis /
    # valor_cofins are the prestador's own contributions; valor_csll the PIS + COFINS + CSLL withheld.
    body = client_with(lambda r: httpx.Response(200)).nfsen_body(request_(valores=lucro_presumido_values()))
    assert {k: v for k, v in body.items() if "pis" in k or "cofins" in k or "csll" in k or "tributos" in k} == {
        "situacao_tributaria_pis_cofins": "01",
        "base_calculo_pis_cofins": Decimal("1500.00"),
        "aliquota_pis": Decimal("0.65"),
        "aliquota_cofins": Decimal("3.00"),
        "valor_pis": Decimal("9.75"),
        "valor_cofins": Decimal("45.00"),
        "tipo_retencao_pis_cofins": 3,
        "valor_csll": Decimal("69.75"),
        "valor_total_tributos_federais": Decimal("54.75"),
        "valor_total_tributos_estaduais": Decimal("0.00"),
        "valor_total_tributos_municipais": Decimal("30.00"),
    }


def test_a_prestador_without_withholding_still_declares_its_own_pis_cofins_with_code_0() -> None:
    valores = Valores(
        service_cents=150_000,
        iss_rate=Decimal("2.00"),
        iss_cents=3_000,
        own_pis_cofins=OwnPisCofins.at_rates(150_000, Decimal("1.65"), Decimal("7.60")),
    )
    body = client_with(lambda r: httpx.Response(200)).nfsen_body(request_(valores=valores))
    assert body["tipo_retencao_pis_cofins"] == 0
    assert (body["valor_pis"], body["valor_cofins"]) == (Decimal("24.75"), Decimal("114.00"))
    assert "valor_csll" not in body


@pytest.mark.parametrize(
    ("extra", "field", "value"),
    [
        ({"deductions_cents": 50_000, "iss_cents": 2_000}, "valor_deducao_servico", Decimal("500.00")),
        ({"deductions_rate": Decimal("10"), "iss_cents": 2_700}, "percentual_deducao_servico", Decimal("10")),
    ],
)
def test_deductions_are_sent_not_refused(extra: dict[str, Any], field: str, value: Decimal) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(404, json=NOT_FOUND)
        return httpx.Response(202, json={"ref": REF, "status": "processando_autorizacao"})

    status = client_with(handler).emit(request_(valores=lucro_presumido_values(**extra)))
    assert status.status == "processando"
    body = json.loads(seen[-1].content, parse_float=Decimal)
    assert body[field] == value
    other = {"valor_deducao_servico", "percentual_deducao_servico"} - {field}
    assert not other & body.keys()
