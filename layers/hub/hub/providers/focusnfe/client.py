"""Focus NFe: NFS-e Nacional (the fallback emitter after Nuvem Fiscal).

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

import httpx
from pydantic import Field, SecretStr

from hub.config import get_settings
from hub.errors import InvalidRequestError, ProviderUnavailableError
from hub.fiscal.nfse_models import (
    NfseCancellation,
    NfseRequest,
    NfseStatus,
    NfseStatusValue,
    reason_lines,
    retention_code,
)
from hub.money import cents_to_reais
from hub.providers.base.client import ProviderClient, ProviderCredentials

PRODUCTION_BASE_URL = "https://api.focusnfe.com.br"
HOMOLOGACAO_BASE_URL = "https://homologacao.focusnfe.com.br"
JUSTIFICATION_MIN, JUSTIFICATION_MAX = 15, 255

STATUS_MAP: dict[str, NfseStatusValue] = {
    "processando_autorizacao": "processando",
    "autorizado": "autorizada",
    "erro_autorizacao": "negada",
    "cancelado": "cancelada",
}
# Codes that mean "a note with this ref already exists" when answering a POST.
ALREADY_EXISTS_CODES = frozenset({"nfe_autorizada", "em_processamento", "nfe_cancelada"})


# tipo_retencao_pis_cofins codes (NT 007): kept under its old name for callers.
retencao_pis_cofins_code = retention_code


class FocusNfeCredentials(ProviderCredentials):
    token: SecretStr = Field(min_length=1)
    environment: Literal["homologacao", "producao"]


class FocusNfeClient(ProviderClient):
    provider: ClassVar[str] = "focusnfe"
    credentials_model: ClassVar[type[ProviderCredentials]] = FocusNfeCredentials
    idempotency_header: ClassVar[str | None] = None  # the ref is the idempotency key
    json_floats: ClassVar[bool] = False  # every number in a body is money or a rate (Decimal)

    credentials: FocusNfeCredentials

    def __init__(self, credentials: ProviderCredentials, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        if credentials.base_url is None and self.credentials.environment == "homologacao":
            self.base_url = HOMOLOGACAO_BASE_URL

    def auth_headers(self) -> dict[str, str]:
        # The token is the Basic username; the password is empty.
        raw = f"{self.credentials.token.get_secret_value()}:".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}

    # ----- errors -------------------------------------------------------------------------
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        body = self.json_body(response, or_none=True)
        if isinstance(body, dict):
            if body.get("mensagem") or body.get("codigo"):
                return (str(body.get("mensagem") or body.get("codigo"))[:300], _text(body.get("codigo")))
            errors = body.get("erros")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                first = errors[0]
                return (str(first.get("mensagem") or first.get("codigo"))[:300], _text(first.get("codigo")))
        return super().error_details(response)

    # ----- NFS-e Nacional -----------------------------------------------------------------
    def nfsen_body(self, req: NfseRequest) -> dict[str, Any]:
        """The NFS-e Nacional JSON (https://focusnfe.com.br/doc/#nfse-nacional_campos)."""
        prest, toma, serv, val = req.prestador, req.tomador, req.servico, req.valores
        body: dict[str, Any] = {
            "data_emissao": req.issued_at.isoformat(timespec="seconds"),
            "data_competencia": req.competence.isoformat(),
            "codigo_municipio_emissora": int(prest.municipality_ibge),
            "cnpj_prestador": prest.cnpj,
            "codigo_opcao_simples_nacional": prest.simples_nacional_option,
            "regime_especial_tributacao": prest.special_regime,
            ("cnpj_tomador" if toma.is_cnpj else "cpf_tomador"): toma.tax_id,
            "razao_social_tomador": toma.name,
            "codigo_municipio_prestacao": int(serv.service_municipality_ibge or serv.municipality_ibge),
            "codigo_tributacao_nacional_iss": serv.ctribnac,
            "descricao_servico": serv.description,
            "valor_servico": cents_to_reais(val.service_cents),
            "tributacao_iss": 1,  # operação tributável
            "tipo_retencao_iss": 2 if val.iss_withheld else 1,  # 1 não retido, 2 retido pelo tomador
        }
        if prest.inscricao_municipal:
            body["inscricao_municipal_prestador"] = prest.inscricao_municipal
        if prest.simples_nacional_regime is not None:
            body["regime_tributario_simples_nacional"] = prest.simples_nacional_regime
        if toma.email:
            body["email_tomador"] = toma.email
        if toma.phone:
            body["telefone_tomador"] = toma.phone
        if toma.address:
            a = toma.address
            body.update(
                {
                    "codigo_municipio_tomador": int(a.municipality_ibge),
                    "cep_tomador": a.cep,
                    "logradouro_tomador": a.street,
                    "numero_tomador": a.number,
                    "bairro_tomador": a.district,
                }
            )
            if a.complement:
                body["complemento_tomador"] = a.complement
        if serv.municipal_code:
            body["codigo_tributacao_municipal_iss"] = serv.municipal_code
        if serv.nbs:
            body["codigo_nbs"] = serv.nbs
        # The rate of a city on the national system is parameterized there; an ME/EPP in the
        # Simples without withholding must not inform it (Sefin rule E0625).
        if val.iss_rate > 0 and (val.iss_withheld or prest.simples_nacional_option != 3):
            body["percentual_aliquota_relativa_municipio"] = val.iss_rate
        if val.irrf_cents:
            body["valor_irrf"] = cents_to_reais(val.irrf_cents)
        # Deductions from the ISS base (vDedRed): a percentage or a value
        # (https://campos.focusnfe.com.br/nfse_nacional).
        if val.deductions_rate is not None:
            body["percentual_deducao_servico"] = val.deductions_rate
        elif val.deductions_cents:
            body["valor_deducao_servico"] = cents_to_reais(val.deductions_cents)
        # NT 007 (https://focusnfe.com.br/guides/nfse/nfse-nacional/retencao-pis-cofins-csll-irrf):
        # valor_pis/valor_cofins are the prestador's own PIS/COFINS (with their CST, base and rates);
        # tipo_retencao_pis_cofins says which of PIS, COFINS and CSLL the tomador withheld (0, 3-9)
        # and valor_csll (vRetCSLL) carries their sum.
        own = val.own_pis_cofins
        retained = val.retained_pis_cofins_csll_cents
        if own is not None:
            body.update(
                {
                    "situacao_tributaria_pis_cofins": own.cst,
                    "base_calculo_pis_cofins": cents_to_reais(own.base_cents),
                    "aliquota_pis": own.pis_rate,
                    "aliquota_cofins": own.cofins_rate,
                    "valor_pis": cents_to_reais(own.pis_cents),
                    "valor_cofins": cents_to_reais(own.cofins_cents),
                }
            )
        if own is not None or retained:
            body["tipo_retencao_pis_cofins"] = val.retention_code
        if retained:
            body["valor_csll"] = cents_to_reais(retained)
        # totTrib outside the Simples: the approximate taxes in money (vTotTrib).
        if (totals := val.total_taxes) is not None:
            fed, est, mun = totals
            body["valor_total_tributos_federais"] = cents_to_reais(fed)
            body["valor_total_tributos_estaduais"] = cents_to_reais(est)
            body["valor_total_tributos_municipais"] = cents_to_reais(mun)
        if req.ibs_cbs is not None:
            ib = req.ibs_cbs
            body.update(
                {
                    "finalidade_emissao": 0,  # NFS-e regular
                    "consumidor_final": 1 if ib.final_consumer else 0,
                    "indicador_destinatario": 0,  # the tomador is the recipient
                    "codigo_indicador_operacao": ib.cind_op,
                    "ibs_cbs_situacao_tributaria": ib.cst,
                    "ibs_cbs_classificacao_tributaria": ib.cclasstrib,
                }
            )
        return body

    def emit(self, req: NfseRequest) -> NfseStatus:
        """``POST /v2/nfsen?ref=<charge id>`` — once per ref: an existing note is reported, not re-sent."""
        existing = self.find(req.reference)
        if existing is not None:
            return existing
        try:
            response = self.request(
                "POST", "/v2/nfsen", params={"ref": req.reference}, json=self.nfsen_body(req), operation="emit"
            )
        except InvalidRequestError as exc:
            if exc.code in ALREADY_EXISTS_CODES:
                return self.get(req.reference)
            raise
        except ProviderUnavailableError:
            # The POST may have been accepted before it timed out or failed.
            found = self.find(req.reference)
            if found is not None:
                return found
            raise
        body = self.json_object(response)
        return self.to_status(body, req.reference)

    # ----- the NfseIssuer port (hub.providers.ports): emit / find / status / cancel ------------
    def status(self, note_id: str) -> NfseStatus:
        """The note's status; at Focus the note's id is our reference."""
        return self.get(note_id)

    def get(self, ref: str) -> NfseStatus:
        response = self.request("GET", f"/v2/nfsen/{quote(ref, safe='')}")
        return self.to_status(self.json_object(response), ref)

    def find(self, reference: str, prestador_cnpj: str | None = None) -> NfseStatus | None:
        """:meth:`get`, or None when Focus has no note with this ref (404 ``nao_encontrado``).
        A ref is unique per Focus token, so the prestador's CNPJ is not needed."""
        try:
            return self.get(reference)
        except InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise

    def cancel(self, note_id: str, justification: str) -> NfseCancellation:
        """``DELETE /v2/nfsen/REF`` with ``{"justificativa"}`` (15-255 characters)."""
        ref = note_id
        text = " ".join(justification.split())
        if not JUSTIFICATION_MIN <= len(text) <= JUSTIFICATION_MAX:
            raise InvalidRequestError(
                f"the justification must have {JUSTIFICATION_MIN}-{JUSTIFICATION_MAX} characters",
                provider=self.provider,
                code="invalid_justification",
            )
        try:
            response = self.request(
                "DELETE", f"/v2/nfsen/{quote(ref, safe='')}", json={"justificativa": text}, operation="cancel"
            )
        except InvalidRequestError as exc:
            if exc.code == "nfe_cancelada":  # already cancelled: the goal is reached
                return NfseCancellation(
                    status="cancelada", provider=self.provider, provider_id=ref, raw_status=exc.code
                )
            raise
        body = self.json_object(response)
        raw = str(body.get("status") or "")
        if raw == "cancelado":
            return NfseCancellation(status="cancelada", provider=self.provider, provider_id=ref, raw_status=raw)
        if raw == "erro_cancelamento":
            return NfseCancellation(
                status="rejeitada", provider=self.provider, provider_id=ref, reasons=_reasons(body), raw_status=raw
            )
        raise ProviderUnavailableError(
            f"focusnfe answered an unknown cancellation status {raw!r}", provider=self.provider
        )

    def to_status(self, body: Mapping[str, Any], ref: str) -> NfseStatus:
        raw = str(body.get("status") or "")
        status = STATUS_MAP.get(raw)
        if status is None:
            raise ProviderUnavailableError(f"focusnfe answered an unknown NFS-e status {raw!r}", provider=self.provider)
        xml_path = body.get("caminho_xml_nota_fiscal")
        return NfseStatus(
            status=status,
            provider=self.provider,
            provider_id=str(body.get("ref") or ref),
            reference=str(body.get("ref") or ref),
            number=_text(body.get("numero")),
            verification_code=_text(body.get("codigo_verificacao")),
            reasons=_reasons(body) if status == "negada" else [],
            pdf_url=_text(body.get("url_danfse")),
            xml_url=self._absolute(xml_path) if isinstance(xml_path, str) and xml_path else None,
            raw_status=raw,
        )

    def _absolute(self, path: str) -> str:
        # "caminho_xml_nota_fiscal … represents the path to build the download URL" on the API host.
        return path if urlsplit(path).scheme else f"{self.base_url}{path if path.startswith('/') else '/' + path}"

    # ----- files --------------------------------------------------------------------------
    def download_pdf(self, note_id: str) -> bytes:
        return self._file(note_id, "pdf")

    def download_xml(self, note_id: str) -> bytes:
        return self._file(note_id, "xml")

    def _file(self, ref: str, kind: Literal["pdf", "xml"]) -> bytes:
        """The note's DANFSe (``pdf``) or XML, fetched from the URL its status points at."""
        status = self.get(ref)
        url = status.pdf_url if kind == "pdf" else status.xml_url
        if not url:
            name = "DANFSe" if kind == "pdf" else "XML"
            raise InvalidRequestError(
                f"the note {ref} has no {name} ({status.raw_status})", provider=self.provider, code=f"no_{kind}"
            )
        return self.download(url)

    def download(self, url: str) -> bytes:
        """A file Focus pointed at. The token goes only to the API host (``url_danfse`` is a
        public S3 URL and never gets it)."""
        own_host = urlsplit(url).netloc == urlsplit(self.base_url).netloc
        response = self.request("GET", url, headers={"Accept": "*/*"}, authenticate=own_host, operation="download")
        return response.content

    def health_check(self) -> None:
        """``GET /v2/nfsen/<a ref that never exists>``: 404 ``nao_encontrado`` proves the token
        (a bad token answers 401/403)."""
        try:
            self.request("GET", "/v2/nfsen/hub-health-check", timeout=get_settings().health_check_timeout)
        except InvalidRequestError as exc:
            if exc.http_status != 404:
                raise


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _reasons(body: Mapping[str, Any]) -> list[str]:
    """``erros: [{"codigo", "mensagem", "correcao"}]`` as readable lines."""
    return reason_lines(body.get("erros"), text_key="mensagem")
