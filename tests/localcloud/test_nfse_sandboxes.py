"""The Nuvem Fiscal and Focus NFe sandboxes: their HTTP contracts, and both adapters driven
against them (processando for N polls then autorizada, the denial trigger, one note per
reference, files, cancellation, the CNPJ lookup, the OAuth token)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.errors import AuthenticationError, InvalidRequestError, ProviderUnavailableError
from hub.fiscal.nfse_models import NfseRequest, Prestador, Servico, Tomador, Valores
from hub.providers import nuvemfiscal
from hub.providers.focusnfe import FocusNfeClient
from hub.providers.nuvemfiscal import NuvemFiscalClient
from hub.retry import RetryPolicy
from localcloud.sandboxes import focusnfe as focus_sandbox
from localcloud.sandboxes import nuvemfiscal as nf_sandbox
from localcloud.sandboxes.base import SandboxServer
from localcloud.sandboxes.focusnfe import FocusNfeSandbox
from localcloud.sandboxes.nuvemfiscal import NuvemFiscalSandbox
from localcloud.servers import ServerThread

NO_SLEEP = RetryPolicy(max_attempts=1, sleep=lambda _: None)
PRESTADOR_CNPJ = "12345678000195"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[NuvemFiscalSandbox, FocusNfeSandbox, str]]:
    nf, focus = NuvemFiscalSandbox(), FocusNfeSandbox()
    server = ServerThread("sandboxes", SandboxServer([nf, focus]), "127.0.0.1", 0)
    server.start()
    try:
        yield nf, focus, server.url
    finally:
        server.stop()


@pytest.fixture
def url(served: tuple[NuvemFiscalSandbox, FocusNfeSandbox, str]) -> Iterator[str]:
    nuvemfiscal.clear_token_cache()
    yield served[2]
    httpx.delete(f"{served[2]}/__sandbox/requests")  # also resets both sandboxes
    nuvemfiscal.clear_token_cache()


@pytest.fixture
def nf(served: tuple[NuvemFiscalSandbox, FocusNfeSandbox, str]) -> NuvemFiscalSandbox:
    return served[0]


@pytest.fixture
def focus(served: tuple[NuvemFiscalSandbox, FocusNfeSandbox, str]) -> FocusNfeSandbox:
    return served[1]


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
