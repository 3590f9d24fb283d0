"""Nuvem Fiscal: NFS-e in the national layout (DPS), and the CNPJ registry lookup.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cached_property
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

import httpx
from pydantic import Field, SecretStr

from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
)
from hub.fiscal.nfse_models import NfseCancellation, NfseRequest, NfseStatus, NfseStatusValue, reason_lines
from hub.jsonmoney import dumps_json  # noqa: F401 - re-exported for callers and tests
from hub.money import cents_to_reais
from hub.providers.base.auth import (
    CONTAINER_TOKENS,
    PERMANENT_OAUTH_ERRORS,
    TOKEN_REFRESH_MARGIN,
    ClientCredentialsTokens,
    Token,
    lifetime_of,
)
from hub.providers.base.client import ProviderClient, ProviderCredentials
from hub.resilience.integrations import disable_integration

AUTH_URL = "https://auth.nuvemfiscal.com.br/oauth/token"
PRODUCTION_BASE_URL = "https://api.nuvemfiscal.com.br"
SANDBOX_BASE_URL = "https://api.sandbox.nuvemfiscal.com.br"
DEFAULT_SCOPE = "nfse cnpj"

# Nfse.status -> ours. "erro" is a note the city/national system refused to process: final,
# with its reasons, never retried in a loop. "substituida" was replaced by another note: this
# one no longer stands. Cancellation requests answer "pendente" while in progress.
STATUS_MAP: dict[str, NfseStatusValue] = {
    "processando": "processando",
    "pendente": "processando",
    "autorizada": "autorizada",
    "negada": "negada",
    "erro": "negada",
    "cancelada": "cancelada",
    "substituida": "cancelada",
}
CANCELLATION_STATUS_MAP: dict[str, Literal["pendente", "cancelada", "rejeitada"]] = {
    "pendente": "pendente",
    "concluido": "cancelada",
    "rejeitado": "rejeitada",
    "erro": "rejeitada",
}
# Receita Federal's situação cadastral codes (01 nula, 02 ativa, 03 suspensa, 04 inapta, 08 baixada).
_SITUACAO_ATIVA = ("ATIVA", "02", "2")


# ----- OAuth token (hub.providers.base.auth) -------------------------------------------------


def _now() -> float:
    return time.time()


def clear_token_cache() -> None:
    CONTAINER_TOKENS.clear("nuvemfiscal")


class _TokenRejected(HubError):
    """401 from the API with a token we hold: drop it and try once with a fresh one."""


# ----- the adapter ---------------------------------------------------------------------------


class NuvemFiscalCredentials(ProviderCredentials):
    client_id: str = Field(min_length=1)
    client_secret: SecretStr = Field(min_length=1)
    # Which Nuvem Fiscal environment the documents go to (NfseDpsPedidoEmissao.ambiente).
    ambiente: Literal["homologacao", "producao"]
    scope: str = Field(DEFAULT_SCOPE, min_length=1)
    auth_url: str = Field(AUTH_URL, pattern=r"^https?://")


class NuvemFiscalClient(ProviderClient):
    provider: ClassVar[str] = "nuvemfiscal"
    credentials_model: ClassVar[type[ProviderCredentials]] = NuvemFiscalCredentials
    idempotency_header: ClassVar[str | None] = None  # none; `referencia` plays that role
    json_floats: ClassVar[bool] = False  # every number in a body is money or a rate (Decimal)

    credentials: NuvemFiscalCredentials

    def account_scope(self) -> str:
        return self.credentials.client_id

    # ----- auth ---------------------------------------------------------------------------
    @cached_property
    def tokens(self) -> ClientCredentialsTokens:
        creds = self.credentials
        return ClientCredentialsTokens(
            lambda: self.guarded(self._request_token, operation="oauth_token"),
            provider=self.provider,
            org_id=self.org_id,
            key=(creds.auth_url, creds.client_id, creds.scope),
            clock=lambda: _now(),
        )

    def access_token(self) -> str:
        """The cached token, or a new one from the token endpoint."""
        return self.tokens.token()

    def drop_token(self) -> None:
        self.tokens.invalidate()

    def _request_token(self) -> Token:
        # https://dev.nuvemfiscal.com.br/docs/autenticacao (RFC 6749 §4.4 client credentials)
        creds = self.credentials
        form = {
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret.get_secret_value(),
            "scope": creds.scope,
        }
        # Inside the guarded token call: one attempt of it.
        response = self.request("POST", creds.auth_url, data=form, authenticate=False, effect=False)
        body = self.json_body(response, or_none=True)
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(value, str) or not value:
            raise ProviderUnavailableError(
                "nuvemfiscal answered the token request without an access_token", provider=self.provider
            )
        return Token.issued(value, now=_now(), lifetime=lifetime_of(body), margin=TOKEN_REFRESH_MARGIN)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def _is_token_response(self, response: httpx.Response) -> bool:
        try:
            url = response.request.url
        except RuntimeError:
            return False
        target = urlsplit(self.credentials.auth_url)
        return url.host == target.hostname and url.path == target.path

    # ----- errors -------------------------------------------------------------------------
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        body = self.json_body(response, or_none=True)
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):  # {"error": {"code", "message", "errors": [...]}}
                message = error.get("message")
                code = error.get("code")
                return (str(message)[:300] if message else response.reason_phrase, str(code) if code else None)
            if isinstance(error, str):  # the OAuth endpoint: {"error", "error_description"} (RFC 6749 §5.2)
                description = body.get("error_description")
                return ((str(description) if description else error)[:300], error)
        return super().error_details(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        if response.status_code < 400:
            return None
        if self._is_token_response(response):
            error = super().classify(response)
            if response.status_code == 400 and error is not None and error.code in PERMANENT_OAUTH_ERRORS:
                return error.recast(AuthenticationError)
            return error
        if response.status_code == 401:
            message, code = self.error_details(response)
            return _TokenRejected(
                f"nuvemfiscal rejected the access token: {message}",
                provider=self.provider,
                http_status=401,
                code=code,
            )
        return super().classify(response)

    # ----- the one call path: a 401 drops the token and retries once ------------------------
    def _api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.request(method, path, **kwargs)
        except _TokenRejected:
            self.drop_token()
        try:
            return self.request(method, path, **kwargs)
        except _TokenRejected as exc:
            self.drop_token()
            if self.org_id:
                disable_integration(self.org_id, self.provider, "401 from nuvemfiscal with a fresh token")
            raise AuthenticationError(exc.message, provider=self.provider, http_status=401, code=exc.code) from None

    # ----- NFS-e --------------------------------------------------------------------------
    def dps_body(self, req: NfseRequest) -> dict[str, Any]:
        """``NfseDpsPedidoEmissao`` for one request (field names as in the DPS layout)."""
        creds = self.credentials
        prest, toma, serv, val = req.prestador, req.tomador, req.servico, req.valores
        tomador: dict[str, Any] = {("CNPJ" if toma.is_cnpj else "CPF"): toma.tax_id, "xNome": toma.name}
        if toma.email:
            tomador["email"] = toma.email
        if toma.phone:
            tomador["fone"] = toma.phone
        if toma.address:
            a = toma.address
            tomador["end"] = {
                "endNac": {"cMun": a.municipality_ibge, "CEP": a.cep},
                "xLgr": a.street,
                "nro": a.number,
                **({"xCpl": a.complement} if a.complement else {}),
                "xBairro": a.district,
            }
        cserv: dict[str, Any] = {"cTribNac": serv.ctribnac, "xDescServ": serv.description}
        if serv.municipal_code:
            cserv["cTribMun"] = serv.municipal_code
        if serv.cnae:
            cserv["CNAE"] = serv.cnae
        if serv.nbs:
            cserv["cNBS"] = serv.nbs
        # TribMunicipal: tribISSQN 1 = operação tributável; tpRetISSQN 1 não retido, 2 retido pelo
        # tomador. pAliq: the national system supplies the rate of a city it parameterizes; an
        # ME/EPP in the Simples without withholding must not inform it (Sefin rule E0625).
        trib_mun: dict[str, Any] = {"tribISSQN": 1, "tpRetISSQN": 2 if val.iss_withheld else 1}
        if val.iss_rate > 0 and (val.iss_withheld or prest.simples_nacional_option != 3):
            trib_mun["pAliq"] = val.iss_rate
        trib: dict[str, Any] = {"tribMun": trib_mun}
        # TribFederal under NT 007 (SE/CGNFS-e, Feb 2026): piscofins carries the prestador's OWN
        # PIS/COFINS (CST, vBCPisCofins, pAliqPis/Cofins, vPis/vCofins) and tpRetPisCofins says which
        # of PIS, COFINS and CSLL the tomador withheld (0, 3-9; 1/2 are legacy); the withheld PIS +
        # COFINS + CSLL go together in vRetCSLL. Schema: TribOutrosPisCofins / TribFederal
        # (https://github.com/nuvem-fiscal/nuvemfiscal-sdk-php/tree/main/docs/Model); field roles:
        # https://focusnfe.com.br/guides/nfse/nfse-nacional/retencao-pis-cofins-csll-irrf
        trib_fed: dict[str, Any] = {}
        own = val.own_pis_cofins
        retained = val.retained_pis_cofins_csll_cents
        if own is not None or retained:
            piscofins: dict[str, Any] = {"CST": own.cst if own is not None else "00"}
            if own is not None:
                piscofins.update(
                    {
                        "vBCPisCofins": cents_to_reais(own.base_cents),
                        "pAliqPis": own.pis_rate,
                        "pAliqCofins": own.cofins_rate,
                        "vPis": cents_to_reais(own.pis_cents),
                        "vCofins": cents_to_reais(own.cofins_cents),
                    }
                )
            piscofins["tpRetPisCofins"] = val.retention_code
            trib_fed["piscofins"] = piscofins
        if val.irrf_cents:
            trib_fed["vRetIRRF"] = cents_to_reais(val.irrf_cents)
        if retained:
            trib_fed["vRetCSLL"] = cents_to_reais(retained)
        if trib_fed:
            trib["tribFed"] = trib_fed
        # TribTotal: outside the Simples, the approximate taxes in money (TribTotalMonet).
        if (totals := val.total_taxes) is not None:
            fed, est, mun = totals
            trib["totTrib"] = {
                "vTotTrib": {
                    "vTotTribFed": cents_to_reais(fed),
                    "vTotTribEst": cents_to_reais(est),
                    "vTotTribMun": cents_to_reais(mun),
                }
            }
        valores: dict[str, Any] = {"vServPrest": {"vServ": cents_to_reais(val.service_cents)}, "trib": trib}
        # InfoDedRed: a percentage (pDR) or a value (vDR) of deductions from the ISS base.
        if val.deductions_rate is not None:
            valores["vDedRed"] = {"pDR": val.deductions_rate}
        elif val.deductions_cents:
            valores["vDedRed"] = {"vDR": cents_to_reais(val.deductions_cents)}
        inf: dict[str, Any] = {
            "tpAmb": 1 if creds.ambiente == "producao" else 2,
            "dhEmi": req.issued_at.isoformat(timespec="seconds"),
            "dCompet": req.competence.isoformat(),
            # The prestador's IM, address and Simples Nacional regime come from the company's
            # registration at Nuvem Fiscal (InfoPrestador documents only CNPJ/CPF and regTrib).
            "prest": {"CNPJ": prest.cnpj},
            "toma": tomador,
            "serv": {
                "locPrest": {"cLocPrestacao": serv.service_municipality_ibge or serv.municipality_ibge},
                "cServ": cserv,
            },
            "valores": valores,
        }
        if req.ibs_cbs is not None:
            # RTCInfoIBSCBS (leiaute 1.01): the Sefin computes the IBS/CBS values from these codes.
            ib = req.ibs_cbs
            inf["IBSCBS"] = {
                "finNFSe": 0,
                "indFinal": 1 if ib.final_consumer else 0,
                "cIndOp": ib.cind_op,
                "indDest": 0,
                "valores": {"trib": {"gIBSCBS": {"CST": ib.cst, "cClassTrib": ib.cclasstrib}}},
            }
        return {"provedor": "padrao", "ambiente": creds.ambiente, "referencia": req.reference, "infDPS": inf}

    # ----- the NfseIssuer port (hub.providers.ports): emit / find / status / cancel ------------
    def emit(self, req: NfseRequest) -> NfseStatus:
        """Emit a DPS (asynchronously: the answer is usually ``processando``) — once per reference."""
        return self.emit_dps(req)

    def find(self, reference: str, prestador_cnpj: str) -> NfseStatus | None:
        return self.find_by_reference(reference, prestador_cnpj)

    def status(self, note_id: str) -> NfseStatus:
        return self.get_nfse(note_id)

    def emit_dps(self, req: NfseRequest) -> NfseStatus:
        """Emit (asynchronously: the answer is usually ``processando``) — once per reference."""
        existing = self.find_by_reference(req.reference, req.prestador.cnpj)
        if existing is not None:
            return existing
        try:
            response = self._api("POST", "/nfse/dps", json=self.dps_body(req), operation="emit")
        except ProviderUnavailableError:
            # A create that timed out or failed with a 5xx may have been accepted.
            found = self.find_by_reference(req.reference, req.prestador.cnpj)
            if found is not None:
                return found
            raise
        return self.to_status(self.json_object(response))

    def get_nfse(self, nfse_id: str) -> NfseStatus:
        return self.to_status(self.json_object(self._api("GET", f"/nfse/{quote(nfse_id, safe='')}")))

    def find_by_reference(self, reference: str, cpf_cnpj: str) -> NfseStatus | None:
        """``GET /nfse?cpf_cnpj=&ambiente=&referencia=`` (newest first): the note, or None."""
        params = {"cpf_cnpj": cpf_cnpj, "ambiente": self.credentials.ambiente, "referencia": reference}
        body = self.json_object(self._api("GET", "/nfse", params=params))
        notes = [n for n in body.get("data") or [] if isinstance(n, dict) and n.get("referencia") in (None, reference)]
        return self.to_status(notes[0]) if notes else None

    def download_pdf(self, note_id: str) -> bytes:
        """The DANFSE."""
        response = self._api("GET", f"/nfse/{quote(note_id, safe='')}/pdf", headers={"Accept": "*/*"})
        return response.content

    def download_xml(self, note_id: str) -> bytes:
        response = self._api("GET", f"/nfse/{quote(note_id, safe='')}/xml", headers={"Accept": "*/*"})
        return response.content

    def cancel(self, note_id: str, justification: str, *, code: str | None = None) -> NfseCancellation:
        """``POST /nfse/{id}/cancelamento`` with ``{"motivo", "codigo"?}``."""
        if not justification.strip():
            raise InvalidRequestError(
                "a cancellation needs a justification", provider=self.provider, code="missing_justification"
            )
        body: dict[str, Any] = {"motivo": justification.strip()}
        if code:
            body["codigo"] = code
        response = self._api("POST", f"/nfse/{quote(note_id, safe='')}/cancelamento", json=body, operation="cancel")
        payload = self.json_object(response)
        raw = str(payload.get("status") or "")
        status = CANCELLATION_STATUS_MAP.get(raw)
        if status is None:
            raise ProviderUnavailableError(
                f"nuvemfiscal answered an unknown cancellation status {raw!r}", provider=self.provider
            )
        return NfseCancellation(
            status=status, provider=self.provider, provider_id=note_id, reasons=_reasons(payload), raw_status=raw
        )

    def to_status(self, note: Mapping[str, Any]) -> NfseStatus:
        raw = str(note.get("status") or "")
        status = STATUS_MAP.get(raw)
        if status is None:
            raise ProviderUnavailableError(
                f"nuvemfiscal answered an unknown NFS-e status {raw!r}", provider=self.provider
            )
        note_id = str(note["id"]) if note.get("id") else None
        files = status in ("autorizada", "cancelada") and note_id is not None
        return NfseStatus(
            status=status,
            provider=self.provider,
            provider_id=note_id,
            reference=note.get("referencia"),
            number=str(note["numero"]) if note.get("numero") else None,
            verification_code=note.get("codigo_verificacao"),
            reasons=_reasons(note) if status == "negada" else [],
            pdf_url=f"{self.base_url}/nfse/{note_id}/pdf" if files else None,
            xml_url=f"{self.base_url}/nfse/{note_id}/xml" if files else None,
            raw_status=raw,
        )

    # ----- CNPJ ---------------------------------------------------------------------------
    def cnpj_lookup(self, cnpj: str) -> dict[str, Any]:
        """``GET /cnpj/{cnpj}``: the registry's situação cadastral (``ativa`` True only for ATIVA)."""
        response = self._api("GET", f"/cnpj/{quote(cnpj, safe='')}", operation="cnpj")
        body = self.json_object(response)
        raw_situacao = body.get("situacao_cadastral")
        situacao: dict[str, Any] = raw_situacao if isinstance(raw_situacao, dict) else {}
        descricao = str(situacao.get("descricao") or "").strip().upper()
        codigo = str(situacao.get("codigo") or "").strip()
        simples = body.get("simples") if isinstance(body.get("simples"), dict) else None
        return {
            "cnpj": body.get("cnpj") or cnpj,
            "razao_social": body.get("razao_social"),
            "situacao_cadastral": descricao or None,
            "situacao_codigo": codigo or None,
            "situacao_data": situacao.get("data"),
            "ativa": descricao in _SITUACAO_ATIVA or codigo in _SITUACAO_ATIVA,
            "simples": simples,
        }

    def health_check(self) -> None:
        """A fresh token from the token endpoint: proves the client id, secret and scope."""
        self.drop_token()
        self.access_token()


def _reasons(body: Mapping[str, Any]) -> list[str]:
    """``mensagens: [{"codigo", "descricao", "correcao"}]`` as readable lines."""
    return reason_lines(body.get("mensagens"), text_key="descricao")
