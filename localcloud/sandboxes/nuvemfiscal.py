"""Nuvem Fiscal sandbox (NFS-e national layout, CNPJ lookup, OAuth), mounted at ``/nuvemfiscal``.

The secret's ``base_url`` is ``<sandbox>/nuvemfiscal`` and its ``auth_url``
``<sandbox>/nuvemfiscal/oauth/token`` (paths as on https://api.nuvemfiscal.com.br and
https://auth.nuvemfiscal.com.br).

Implemented:

* ``POST /oauth/token`` (form ``grant_type=client_credentials``, ``client_id``, ``client_secret``,
  ``scope``) → ``{"access_token", "token_type": "bearer", "expires_in", "scope"}``; wrong
  credentials → 401 ``{"error": "invalid_client"}``, another grant → 400
  ``unsupported_grant_type``. Tokens live ``token_lifetime`` seconds (default 3600);
  :meth:`NuvemFiscalSandbox.revoke_tokens` invalidates every token issued so far (a 401 on the
  next call, as after an expiry).
* Every other route needs ``Authorization: Bearer <token>`` (else 401).
* ``POST /nfse/dps`` (``provedor``, ``ambiente``, ``referencia``, ``infDPS`` with ``prest`` CNPJ/CPF,
  ``serv.cServ.cTribNac`` (6 digits) and ``xDescServ``, ``valores.vServPrest.vServ`` > 0) → 200
  with an ``Nfse`` in ``processando``. **The same ``referencia`` twice returns the same note: no
  second emission** (:attr:`emissions` counts real ones).
* ``GET /nfse/{id}``: each read of a note in ``processando`` counts one poll; after N polls the
  note becomes ``autorizada`` — or ``negada`` with ``mensagens`` when denied (below). N defaults
  to :data:`DEFAULT_POLLS` (2); per reference with :meth:`set_polls`, or from the request itself
  with ``[POLLS=n]`` in the service description.
* ``GET /nfse?cpf_cnpj=&ambiente=&referencia=`` → ``{"@count", "data": [...]}`` (does not poll).
* ``GET /nfse/{id}/pdf`` and ``/xml``: fake DANFSE (``%PDF-``) and XML bytes, once authorized.
* ``POST /nfse/{id}/cancelamento`` (``{"motivo"}``) → ``NfseCancelamento`` ``concluido`` for an
  authorized note (the note becomes ``cancelada``); otherwise 400.
* ``GET /cnpj/{cnpj}`` → ``CnpjEmpresa`` with ``situacao_cadastral`` ATIVA, except
  :data:`BAIXADA_CNPJ` (BAIXADA); a CNPJ that is not 14 characters → 400.

**Withholding under NT 007** (SE/CGNFS-e, Feb 2026), enforced on ``POST /nfse/dps`` with a 400:
``tribFed.piscofins.tpRetPisCofins`` must be 0 or 3-9 (1 and 2 are the legacy codes);
``vPis``/``vCofins`` are the prestador's own contributions and must equal ``vBCPisCofins`` x
``pAliqPis``/``pAliqCofins`` (half-even, R$ 0.01 tolerance); ``vRetCSLL`` (PIS + COFINS + CSLL
withheld) is present exactly when the code says something was withheld; ``vDedRed`` (``vDR`` or
``pDR``) stays below the service value; the withholding total (``vRetCP`` + ``vRetIRRF`` +
``vRetCSLL`` + the ISS when ``tpRetISSQN`` 2) stays below the service value; ``totTrib.vTotTrib``
federal is at least the own PIS + COFINS; ``xDescServ`` holds 1000 characters. Each accepted note
records ``totals`` (``vBC``, ``vISSQN``, ``vTotalRet``, ``vLiq`` = ``vServ`` - ``vTotalRet``).

**Denial trigger** (note ends ``negada``): the service description (``xDescServ``) contains
``NEGAR``, or the tomador's CNPJ/CPF is in :data:`DENIED_TOMADORES`.

Errors: ``{"error": {"code", "message", "errors"?}}``
(https://suporte.nuvemfiscal.com.br/t/status-400-no-retorno/4111).
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason
from localcloud.sandboxes.nfse_rules import CENT, DESCRIPTION_MAX, retention_problem
from localcloud.sandboxes.nfse_rules import money as _money
from localcloud.sandboxes.nfse_rules import rate_of as _rate_of

DEMO_CLIENT_ID = "demo-nuvemfiscal-client"
DEMO_CLIENT_SECRET = "demo-nuvemfiscal-secret"
DEFAULT_POLLS = 2
DEFAULT_TOKEN_LIFETIME = 3600
BAIXADA_CNPJ = "11222333000181"
DENIED_TOMADORES = frozenset({"99999999000191", "00000000191"})
DENY_MARKER = "NEGAR"
DENIAL_MESSAGES = [
    {
        "codigo": "E0312",
        "descricao": "Tomador com situação cadastral irregular (sandbox).",
        "correcao": "Verifique o CPF/CNPJ do tomador.",
    }
]
PDF_BYTES = b"%PDF-1.4\n% sandbox DANFSE\n"
_POLLS_MARKER = re.compile(r"\[POLLS=(\d{1,3})\]")

_ERROR_CODES = {400: "ValidationFailed", 401: "Unauthorized", 404: "NotFound", 429: "TooManyRequests"}


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class NuvemFiscalSandbox(Sandbox):
    provider = "nuvemfiscal"

    def __init__(
        self,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        default_polls: int = DEFAULT_POLLS,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
    ) -> None:
        super().__init__()
        self.clients = {client_id: client_secret}
        self.default_polls = default_polls
        self.token_lifetime = token_lifetime
        self.tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self.notes: dict[str, dict[str, Any]] = {}  # id -> state
        self.polls: dict[str, int] = {}  # reference -> polls before the final status
        self.emissions = 0
        self.token_requests = 0
        self.route("/oauth/token", ["POST"], self.issue_token)
        self.route("/nfse/dps", ["POST"], self.emit)
        self.route("/nfse", ["GET"], self.list_notes)
        self.route("/nfse/<note_id>", ["GET"], self.get_note)
        self.route("/nfse/<note_id>/pdf", ["GET"], self.get_pdf)
        self.route("/nfse/<note_id>/xml", ["GET"], self.get_xml)
        self.route("/nfse/<note_id>/cancelamento", ["POST"], self.cancel)
        self.route("/cnpj/<cnpj>", ["GET"], self.cnpj)

    # -- controls (in-process tests) ---------------------------------------- #

    def set_polls(self, reference: str, polls: int) -> None:
        """The note with this reference answers ``processando`` for ``polls`` reads."""
        with self.lock:
            self.polls[reference] = polls

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def reset(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.notes.clear()
            self.polls.clear()
            self.emissions = 0
            self.token_requests = 0

    # -- error shapes ------------------------------------------------------- #

    def nf_error(self, status: int, message: str, code: str | None = None) -> Response:
        return json_response({"error": {"code": code or _ERROR_CODES.get(status, "Error"), "message": message}}, status)

    def error_response(self, status: int, message: str | None = None) -> Response:
        return self.nf_error(status, message or reason(status))

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.nf_error(404, f"Recurso {subpath} não encontrado.")

    # -- OAuth --------------------------------------------------------------- #

    def issue_token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        expected = self.clients.get(client_id)
        if expected is None or not secrets.compare_digest(secret, expected):
            return json_response({"error": "invalid_client", "error_description": "Invalid client credentials"}, 401)
        token = "nf_" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.time() + self.token_lifetime
            self.token_requests += 1
        return json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": form.get("scope", ""),
            }
        )

    def _denied(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self.lock:
            expiry = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if expiry is None or expiry < time.time():
            return self.nf_error(401, "Token de acesso inválido ou expirado.")
        return None

    # -- NFS-e --------------------------------------------------------------- #

    def emit(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.nf_error(400, "O corpo da requisição deve ser um objeto JSON.")
        problem = _validate_dps(body)
        if problem is not None:
            return json_response(
                {
                    "error": {
                        "code": "ValidationFailed",
                        "message": f"Validation failed: {problem}",
                        "errors": [{"code": "InvalidValue", "message": problem}],
                    }
                },
                400,
            )
        reference = body.get("referencia")
        with self.lock:
            if reference:
                existing = next((n for n in self.notes.values() if n["referencia"] == reference), None)
                if existing is not None:  # same reference: the same note, never a second emission
                    return json_response(self._public(existing))
            inf = body["infDPS"]
            description = str(inf["serv"]["cServ"]["xDescServ"])
            toma = inf.get("toma") or {}
            tomador_id = toma.get("CNPJ") or toma.get("CPF")
            marker = _POLLS_MARKER.search(description)
            polls = self.polls.get(reference or "", int(marker.group(1)) if marker else self.default_polls)
            note_id = "nfs_" + secrets.token_hex(16)
            note = {
                "id": note_id,
                "created_at": _now_iso(),
                "status": "processando",
                "ambiente": body["ambiente"],
                "referencia": reference,
                "cpf_cnpj": inf["prest"].get("CNPJ") or inf["prest"].get("CPF"),
                "polls_left": polls,
                "deny": DENY_MARKER in description.upper() or tomador_id in DENIED_TOMADORES,
                "numero": None,
                "codigo_verificacao": None,
                "mensagens": [],
                "dps": body,
                "totals": _totals(inf),
            }
            self.notes[note_id] = note
            self.emissions += 1
            if polls <= 0:
                self._finish(note)
            return json_response(self._public(note))

    def _finish(self, note: dict[str, Any]) -> None:
        if note["deny"]:
            note["status"] = "negada"
            note["mensagens"] = list(DENIAL_MESSAGES)
        else:
            note["status"] = "autorizada"
            note["numero"] = str(sum(1 for n in self.notes.values() if n["numero"]) + 1)
            note["codigo_verificacao"] = secrets.token_hex(4).upper()
            note["data_emissao"] = _now_iso()

    def _public(self, note: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": note["id"],
            "created_at": note["created_at"],
            "status": note["status"],
            "numero": note["numero"],
            "codigo_verificacao": note["codigo_verificacao"],
            "link_url": None,
            "data_emissao": note.get("data_emissao"),
            "ambiente": note["ambiente"],
            "referencia": note["referencia"],
            "mensagens": note["mensagens"],
        }

    def _found(self, request: Request, note_id: str) -> dict[str, Any] | Response:
        """The note asked for, or the answer instead: a refusal, or Nuvem Fiscal's 404."""
        if (denied := self._denied(request)) is not None:
            return denied
        with self.lock:
            note = self.notes.get(note_id)
        return self.nf_error(404, "NFS-e não encontrada.") if note is None else note

    def get_note(self, request: Request, note_id: str) -> Response:
        note = self._found(request, note_id)
        if isinstance(note, Response):
            return note
        with self.lock:
            if note["status"] == "processando":
                note["polls_left"] -= 1
                if note["polls_left"] <= 0:
                    self._finish(note)
                    # this read still answers processando; the next one the final status
                    return json_response(
                        {
                            **self._public(note),
                            "status": "processando",
                            "numero": None,
                            "codigo_verificacao": None,
                            "mensagens": [],
                        }
                    )
            return json_response(self._public(note))

    def list_notes(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        args = request.args
        if not args.get("cpf_cnpj") or args.get("ambiente") not in ("homologacao", "producao"):
            return self.nf_error(400, "Os parâmetros cpf_cnpj e ambiente são obrigatórios.")
        with self.lock:
            found = [
                self._public(n)
                for n in reversed(list(self.notes.values()))
                if n["cpf_cnpj"] == args["cpf_cnpj"]
                and n["ambiente"] == args["ambiente"]
                and (not args.get("referencia") or n["referencia"] == args["referencia"])
            ]
        return json_response({"@count": len(found), "data": found})

    def _file(self, request: Request, note_id: str, kind: str) -> Response:
        note = self._found(request, note_id)
        if isinstance(note, Response):
            return note
        if note["status"] not in ("autorizada", "cancelada"):
            return self.nf_error(400, f"A NFS-e está com status {note['status']}: não há {kind.upper()}.")
        if kind == "pdf":
            return Response(PDF_BYTES + note_id.encode(), content_type="application/pdf")
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><NFSe xmlns="http://www.sped.fazenda.gov.br/nfse">'
            f'<infNFSe Id="{note_id}"><nNFSe>{note["numero"]}</nNFSe></infNFSe></NFSe>'
        )
        return Response(xml.encode(), content_type="application/xml")

    def get_pdf(self, request: Request, note_id: str) -> Response:
        return self._file(request, note_id, "pdf")

    def get_xml(self, request: Request, note_id: str) -> Response:
        return self._file(request, note_id, "xml")

    def cancel(self, request: Request, note_id: str) -> Response:
        note = self._found(request, note_id)
        if isinstance(note, Response):
            return note
        body = request.get_json(silent=True) or {}
        with self.lock:
            if note["status"] != "autorizada":
                return self.nf_error(400, f"Não é possível cancelar uma NFS-e com status {note['status']}.")
            note["status"] = "cancelada"
        return json_response(
            {
                "id": "can_" + secrets.token_hex(8),
                "status": "concluido",
                "codigo": body.get("codigo") if isinstance(body, dict) else None,
                "motivo": body.get("motivo") if isinstance(body, dict) else None,
                "data_hora": _now_iso(),
                "mensagens": [],
            }
        )

    # -- CNPJ ---------------------------------------------------------------- #

    def cnpj(self, request: Request, cnpj: str) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if not re.fullmatch(r"[0-9A-Z]{12}[0-9]{2}", cnpj):
            return self.nf_error(400, "CNPJ inválido.")
        baixada = cnpj == BAIXADA_CNPJ
        return json_response(
            {
                "cnpj": cnpj,
                "razao_social": "EMPRESA BAIXADA LTDA" if baixada else "EMPRESA DEMONSTRACAO LTDA",
                "nome_fantasia": None,
                "matriz": True,
                "situacao_cadastral": {
                    "data": "2020-01-01",
                    "codigo": "08" if baixada else "02",
                    "descricao": "BAIXADA" if baixada else "ATIVA",
                },
                "simples": {"optante": False},
            }
        )


def _validate_dps(body: dict[str, Any]) -> str | None:
    if body.get("ambiente") not in ("homologacao", "producao"):
        return "O campo 'ambiente' deve ser homologacao ou producao"
    if body.get("provedor", "padrao") not in ("padrao", "nacional"):
        return "O campo 'provedor' deve ser padrao ou nacional"
    inf = body.get("infDPS")
    if not isinstance(inf, dict):
        return "O campo 'infDPS' é obrigatório"
    prest = inf.get("prest")
    if not isinstance(prest, dict) or not (prest.get("CNPJ") or prest.get("CPF")):
        return "O campo 'infDPS.prest.CNPJ' é obrigatório"
    serv = inf.get("serv")
    cserv = serv.get("cServ") if isinstance(serv, dict) else None
    if not isinstance(cserv, dict) or not re.fullmatch(r"[0-9]{6}", str(cserv.get("cTribNac") or "")):
        return "O campo 'infDPS.serv.cServ.cTribNac' deve ter 6 dígitos"
    if not cserv.get("xDescServ"):
        return "O campo 'infDPS.serv.cServ.xDescServ' é obrigatório"
    if len(str(cserv["xDescServ"])) > DESCRIPTION_MAX:
        return f"O campo 'infDPS.serv.cServ.xDescServ' aceita no máximo {DESCRIPTION_MAX} caracteres"
    valores = inf.get("valores")
    vserv = valores.get("vServPrest", {}).get("vServ") if isinstance(valores, dict) else None
    if isinstance(vserv, bool) or not isinstance(vserv, int | float) or Decimal(str(vserv)) <= 0:
        return "O campo 'infDPS.valores.vServPrest.vServ' deve ser maior que zero"
    assert isinstance(valores, dict)  # vServ was found in it
    try:
        return _validate_values(valores)
    except (InvalidOperation, TypeError, ValueError, AttributeError):
        return "Valores numéricos inválidos em 'infDPS.valores'"


def _deduction(valores: dict[str, Any], vserv: Decimal) -> Decimal:
    ded = valores.get("vDedRed") or {}
    if "pDR" in ded:
        return _rate_of(vserv, _money(ded["pDR"]))
    return _money(ded.get("vDR"))


def _iss(valores: dict[str, Any], vserv: Decimal) -> Decimal:
    trib_mun = (valores.get("trib") or {}).get("tribMun") or {}
    return _rate_of(vserv - _deduction(valores, vserv), _money(trib_mun.get("pAliq")))


def _totals(inf: dict[str, Any]) -> dict[str, Decimal]:
    """The note's totals as the national layout computes them."""
    valores = inf["valores"]
    vserv = _money(valores["vServPrest"]["vServ"])
    trib = valores.get("trib") or {}
    fed = trib.get("tribFed") or {}
    iss = _iss(valores, vserv)
    iss_withheld = iss if (trib.get("tribMun") or {}).get("tpRetISSQN") == 2 else Decimal(0)
    total_ret = _money(fed.get("vRetCP")) + _money(fed.get("vRetIRRF")) + _money(fed.get("vRetCSLL")) + iss_withheld
    return {
        "vBC": vserv - _deduction(valores, vserv),
        "vISSQN": iss,
        "vTotalRet": total_ret,
        "vLiq": vserv - total_ret,
    }


def _validate_values(valores: dict[str, Any]) -> str | None:
    vserv = _money(valores["vServPrest"]["vServ"])
    ded = valores.get("vDedRed") or {}
    if "pDR" in ded and "vDR" in ded:
        return "Informe 'vDedRed.pDR' ou 'vDedRed.vDR', não ambos"
    if "pDR" in ded and not Decimal(0) < _money(ded["pDR"]) < 100:
        return "O campo 'vDedRed.pDR' deve estar entre 0 e 100"
    if _deduction(valores, vserv) >= vserv or _deduction(valores, vserv) < 0:
        return "O valor de deduções/reduções deve ser menor que o valor do serviço"
    trib = valores.get("trib") or {}
    fed = trib.get("tribFed") or {}
    piscofins = fed.get("piscofins")
    retained = _money(fed.get("vRetCSLL"))
    own_federal = Decimal(0)
    if piscofins is not None:
        code = piscofins.get("tpRetPisCofins")
        if problem := retention_problem(code, retained, code_field="tpRetPisCofins", total_field="vRetCSLL"):
            return problem
        for value_field, rate_field in (("vPis", "pAliqPis"), ("vCofins", "pAliqCofins")):
            if value_field not in piscofins:
                continue
            if "vBCPisCofins" not in piscofins or rate_field not in piscofins:
                return f"'{value_field}' (apuração própria) exige vBCPisCofins e {rate_field}"
            expected = _rate_of(_money(piscofins["vBCPisCofins"]), _money(piscofins[rate_field]))
            if abs(expected - _money(piscofins[value_field])) > CENT:
                return f"'{value_field}' difere de vBCPisCofins x {rate_field} ({expected}) em mais de R$ 0,01"
            own_federal += _money(piscofins[value_field])
    elif retained:
        return "vRetCSLL informado sem piscofins.tpRetPisCofins dizendo quais tributos foram retidos"
    total_ret = _totals({"valores": valores})["vTotalRet"]
    if total_ret >= vserv:
        return f"O total de retenções ({total_ret}) deve ser menor que o valor do serviço ({vserv})"
    tot = (trib.get("totTrib") or {}).get("vTotTrib")
    if isinstance(tot, dict) and _money(tot.get("vTotTribFed")) < own_federal:
        return "vTotTribFed menor que o PIS e a COFINS próprios informados"
    return None


# Self-registration: the local cloud serves SANDBOX at /nuvemfiscal and seeds DEMO_SECRETS.
SANDBOX = NuvemFiscalSandbox
DEMO_SECRETS = (
    DemoSecret(
        "nuvemfiscal",
        lambda base_url: {
            "base_url": base_url,
            "auth_url": f"{base_url}/oauth/token",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "ambiente": "homologacao",
        },
    ),
)
