"""Nuvem Fiscal and Focus NFe behind one NfseIssuer port: the same calls, the same answers.

The invoicing workflow no longer asks which class it holds (``emit_dps`` vs ``emit``); these
tests drive one scenario through the port against each provider's documented API, faked in
memory (https://dev.nuvemfiscal.com.br/docs/api#tag/Nfse, https://focusnfe.com.br/doc/#nfse-nacional).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from typing_extensions import get_protocol_members

from hub.fiscal.nfse_models import NfseRequest, Prestador, Servico, Tomador, Valores
from hub.providers import ports
from hub.providers.focusnfe.client import FocusNfeClient, FocusNfeCredentials
from hub.providers.nuvemfiscal import client as nuvemfiscal
from hub.providers.nuvemfiscal.client import NuvemFiscalClient, NuvemFiscalCredentials
from hub.retry import RetryPolicy

REF = "chg123"
CNPJ = "12345678000195"
JUSTIFICATION = "Cancelamento por estorno do pagamento"
NO_RETRY = RetryPolicy(max_attempts=1, sleep=lambda _: None)


def nfse_request() -> NfseRequest:
    return NfseRequest(
        reference=REF,
        issued_at=datetime(2026, 3, 10, 14, 30, tzinfo=UTC),
        competence=date(2026, 3, 10),
        prestador=Prestador(cnpj=CNPJ, inscricao_municipal="998877", municipality_ibge="4106902"),
        tomador=Tomador(tax_id="07504505000132", name="Acras Tecnologia", email="contato@acras.com.br"),
        servico=Servico(
            ctribnac="010701", lc116_item="1.07", description="Desenvolvimento de software", municipality_ibge="4106902"
        ),
        valores=Valores(service_cents=100, iss_rate=Decimal("2.00"), iss_cents=2),
    )


class FakeNuvemFiscal:
    """Token endpoint, DPS emission (``processando``, authorised on the next read), lookup by
    referencia, files and cancellation."""

    def __init__(self) -> None:
        self.notes: dict[str, dict[str, Any]] = {}
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        if url.netloc.startswith("auth."):
            return httpx.Response(200, json={"access_token": "tok", "token_type": "bearer", "expires_in": 3600})
        path = url.path
        if request.method == "GET" and path == "/nfse":
            wanted = parse_qs(url.query)["referencia"][0]
            return httpx.Response(200, json={"data": [n for n in self.notes.values() if n["referencia"] == wanted]})
        if request.method == "POST" and path == "/nfse/dps":
            self.posts += 1
            body = json.loads(request.content)
            note = {"id": f"nfs_{len(self.notes) + 1}", "status": "processando", "referencia": body["referencia"]}
            self.notes[note["id"]] = note
            return httpx.Response(200, json=note)
        note_id = path.split("/")[2]
        note = self.notes[note_id]
        if path.endswith("/pdf"):
            return httpx.Response(200, content=b"%PDF-1.4 danfse")
        if path.endswith("/xml"):
            return httpx.Response(200, content=b"<NFSe/>")
        if path.endswith("/cancelamento"):
            note["status"] = "cancelada"
            return httpx.Response(200, json={"status": "concluido", "mensagens": []})
        if note["status"] == "processando":  # the municipality answered in the meantime
            note.update(status="autorizada", numero="1245", codigo_verificacao="ABC123")
        return httpx.Response(200, json=note)


class FakeFocusNfe:
    """``/v2/nfsen?ref=`` emission, ``GET/DELETE /v2/nfsen/{ref}``, DANFSe on a public S3 URL."""

    def __init__(self) -> None:
        self.notes: dict[str, dict[str, Any]] = {}
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        if url.netloc.endswith("amazonaws.com"):
            return httpx.Response(200, content=b"%PDF-1.4 danfse")
        if url.path.startswith("/arquivos/"):
            return httpx.Response(200, content=b"<NFSe/>")
        if request.method == "POST":
            self.posts += 1
            ref = parse_qs(url.query)["ref"][0]
            self.notes[ref] = {"ref": ref, "status": "processando_autorizacao"}
            return httpx.Response(202, json=self.notes[ref])
        ref = url.path.rsplit("/", 1)[1]
        note = self.notes.get(ref)
        if note is None:
            return httpx.Response(404, json={"codigo": "nao_encontrado", "mensagem": "Nota fiscal não encontrada"})
        if request.method == "DELETE":
            note["status"] = "cancelado"
            return httpx.Response(200, json={"status": "cancelado"})
        if note["status"] == "processando_autorizacao":
            note.update(
                status="autorizado",
                numero="1245",
                codigo_verificacao="ABC123",
                url_danfse=f"https://focusnfe.s3.sa-east-1.amazonaws.com/arquivos/{ref}.pdf",
                caminho_xml_nota_fiscal=f"/arquivos/{ref}-nfse.xml",
            )
        return httpx.Response(200, json=note)


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    nuvemfiscal.clear_token_cache()
    yield
    nuvemfiscal.clear_token_cache()


def nuvemfiscal_issuer() -> tuple[ports.NfseIssuer, Any]:
    fake = FakeNuvemFiscal()
    creds = NuvemFiscalCredentials(client_id="c", client_secret=SecretStr("s"), ambiente="homologacao")
    http = httpx.Client(transport=httpx.MockTransport(fake))
    return NuvemFiscalClient(creds, http=http, retry_policy=NO_RETRY), fake


def focusnfe_issuer() -> tuple[ports.NfseIssuer, Any]:
    fake = FakeFocusNfe()
    creds = FocusNfeCredentials(token=SecretStr("focus-token"), environment="producao")
    http = httpx.Client(transport=httpx.MockTransport(fake))
    return FocusNfeClient(creds, http=http, retry_policy=NO_RETRY), fake


ISSUERS: dict[str, Callable[[], tuple[ports.NfseIssuer, Any]]] = {
    "nuvemfiscal": nuvemfiscal_issuer,
    "focusnfe": focusnfe_issuer,
}


def test_both_issuers_are_declared_as_the_one_nfse_port() -> None:
    # Given the registry / When asked who issues NFS-e / Then exactly these two, in the same port
    assert sorted(ports.providers_with(ports.NfseIssuer)) == ["focusnfe", "nuvemfiscal"]


@pytest.mark.parametrize("cls", [NuvemFiscalClient, FocusNfeClient])
def test_every_port_call_has_the_ports_parameters_on_both(cls: type[Any]) -> None:
    # Given the port's calls / Then each issuer takes the same parameters, by the same names
    for name in get_protocol_members(ports.NfseIssuer):
        wanted = inspect.signature(getattr(ports.NfseIssuer, name)).parameters
        actual = inspect.signature(getattr(cls, name)).parameters
        for parameter in wanted.values():
            assert parameter.name in actual, f"{cls.__name__}.{name} lacks {parameter.name}"
            assert actual[parameter.name].kind == parameter.kind, f"{cls.__name__}.{name}({parameter.name})"
        extra = [p for p in actual.values() if p.name not in wanted and p.default is inspect.Parameter.empty]
        assert extra == [], f"{cls.__name__}.{name} requires more than the port gives"


@pytest.mark.parametrize("provider", list(ISSUERS))
def test_one_scenario_through_the_port_behaves_the_same_at_both(provider: str) -> None:
    # Given an issuer holding no note for our charge
    issuer, fake = ISSUERS[provider]()
    assert issuer.find(REF, CNPJ) is None

    # When the note is emitted twice (a retried workflow step)
    first = issuer.emit(nfse_request())
    again = issuer.emit(nfse_request())

    # Then it is emitted once, processing, under our reference
    assert fake.posts == 1
    assert (first.status, first.provider, first.reference) == ("processando", provider, REF)
    assert again.provider_id == first.provider_id and first.provider_id

    # And it is polled, found, downloaded and cancelled by the same calls
    note_id = first.provider_id
    authorised = issuer.status(note_id)
    assert (authorised.status, authorised.number, authorised.verification_code) == ("autorizada", "1245", "ABC123")
    found = issuer.find(REF, CNPJ)
    assert found is not None and found.provider_id == note_id
    assert issuer.download_pdf(note_id).startswith(b"%PDF")
    assert issuer.download_xml(note_id) == b"<NFSe/>"
    cancelled = issuer.cancel(note_id, JUSTIFICATION)
    assert (cancelled.status, cancelled.provider, cancelled.provider_id) == ("cancelada", provider, note_id)
