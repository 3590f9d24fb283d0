"""Focus NFe sandbox (NFS-e Nacional), mounted at ``/focusnfe``; the secret's ``base_url`` is
``<sandbox>/focusnfe`` (paths as on https://api.focusnfe.com.br — https://focusnfe.com.br/doc/#nfse-nacional).

Auth: HTTP Basic with the token as the username and an empty password; anything else → 401
``{"codigo": "nao_autorizado"}``.

Implemented:

* ``POST /v2/nfsen?ref=REF`` → 202 ``{"cnpj_prestador", "ref", "status": "processando_autorizacao"}``;
  no ``ref`` or a missing ``codigo_municipio_emissora`` / ``cnpj_prestador`` /
  ``codigo_tributacao_nacional_iss`` / ``descricao_servico`` / ``valor_servico`` → 400
  ``requisicao_invalida``. **A ref that exists is never emitted again**: 422 ``em_processamento``
  while processing, 422 ``nfe_autorizada`` once authorized, 400 ``nfe_cancelada`` once cancelled
  (as documented); after ``erro_autorizacao`` the ref is accepted again, as Focus does
  (:attr:`FocusNfeSandbox.emissions` counts real emissions).
* ``GET /v2/nfsen/REF``: each read while processing counts one poll; after N polls →
  ``autorizado`` (``numero``, ``codigo_verificacao``, ``url``, ``url_danfse`` — an absolute URL on
  this sandbox — and ``caminho_xml_nota_fiscal`` — a path on the API host) or, when denied,
  ``erro_autorizacao`` with ``erros``. N defaults to :data:`DEFAULT_POLLS` (2); per ref with
  :meth:`set_polls`, or ``[POLLS=n]`` in ``descricao_servico``. Unknown ref → 404 ``nao_encontrado``.
* ``DELETE /v2/nfsen/REF`` with ``{"justificativa"}`` (15-255 characters) → ``{"status": "cancelado"}``;
  not authorized → 400 ``nfe_nao_autorizada``; already cancelled → 400 ``nfe_cancelada``.
* ``GET /arquivos/<path>``: the fake DANFSe (``%PDF-``, no auth, like Focus's S3 URL) and XML
  (with auth).

**Withholding under NT 007** (https://focusnfe.com.br/guides/nfse/nfse-nacional/retencao-pis-cofins-csll-irrf),
enforced on ``POST /v2/nfsen`` with 400 ``requisicao_invalida``: ``tipo_retencao_pis_cofins`` must be
0 or 3-9 (1 and 2 are legacy); ``valor_pis``/``valor_cofins`` are the prestador's own contributions
and must equal ``base_calculo_pis_cofins`` x ``aliquota_pis``/``aliquota_cofins`` (half-even,
R$ 0.01 tolerance); ``valor_csll`` (PIS + COFINS + CSLL withheld) is present exactly when the code
says something was withheld; ``valor_deducao_servico`` or ``percentual_deducao_servico`` (not both)
stays below the service value; the withholding total (``valor_cp`` + ``valor_irrf`` + ``valor_csll``
+ the ISS when ``tipo_retencao_iss`` 2) stays below the service value;
``valor_total_tributos_federais`` is at least the own PIS + COFINS; ``descricao_servico`` holds
1000 characters. Each accepted note records ``totals`` (``base_calculo_iss``, ``valor_iss``,
``valor_total_retencoes``, ``valor_liquido``).

**Denial trigger** (``erro_autorizacao``): ``descricao_servico`` contains ``NEGAR``, or
``cnpj_tomador``/``cpf_tomador`` is in :data:`DENIED_TOMADORES`.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import DemoSecret, Sandbox, json_response, reason
from localcloud.sandboxes.nfse_rules import CENT, DESCRIPTION_MAX, retention_problem
from localcloud.sandboxes.nfse_rules import money as _money
from localcloud.sandboxes.nfse_rules import rate_of as _rate_of

DEMO_TOKEN = "demo-focusnfe-token"
DEFAULT_POLLS = 2
DENIED_TOMADORES = frozenset({"99999999000191", "00000000191"})
DENY_MARKER = "NEGAR"
DENIAL_ERRORS = [
    {
        "codigo": "E0312",
        "mensagem": "Tomador com situação cadastral irregular (sandbox).",
        "correcao": None,
    }
]
PDF_BYTES = b"%PDF-1.4\n% sandbox DANFSe Focus\n"
REQUIRED_FIELDS = (
    "codigo_municipio_emissora",
    "cnpj_prestador",
    "codigo_tributacao_nacional_iss",
    "descricao_servico",
    "valor_servico",
)
_POLLS_MARKER = re.compile(r"\[POLLS=(\d{1,3})\]")
_STATUS_CODES = {401: "nao_autorizado", 403: "permissao_negada", 404: "nao_encontrado", 429: "limite_excedido"}


class FocusNfeSandbox(Sandbox):
    provider = "focusnfe"

    def __init__(self, token: str = DEMO_TOKEN, default_polls: int = DEFAULT_POLLS) -> None:
        super().__init__()
        self.token = token
        self.default_polls = default_polls
        self.notes: dict[str, dict[str, Any]] = {}  # ref -> state
        self.polls: dict[str, int] = {}
        self.emissions = 0
        self.route("/v2/nfsen", ["POST"], self.emit)
        self.route("/v2/nfsen/<ref>", ["GET"], self.get_note)
        self.route("/v2/nfsen/<ref>", ["DELETE"], self.cancel)
        self.route("/arquivos/<path:path>", ["GET"], self.file)

    def set_polls(self, ref: str, polls: int) -> None:
        with self.lock:
            self.polls[ref] = polls

    def reset(self) -> None:
        with self.lock:
            self.notes.clear()
            self.polls.clear()
            self.emissions = 0

    # -- errors / auth ------------------------------------------------------ #

    def focus_error(self, status: int, codigo: str, mensagem: str) -> Response:
        return json_response({"codigo": codigo, "mensagem": mensagem}, status)

    def error_response(self, status: int, message: str | None = None) -> Response:
        codigo = _STATUS_CODES.get(status, "erro_interno" if status >= 500 else "requisicao_invalida")
        return self.focus_error(status, codigo, message or reason(status))

    def not_found(self, request: Request, subpath: str) -> Response:
        return self.focus_error(404, "nao_encontrado", "Endpoint não encontrado, verifique a documentação")

    def _denied(self, request: Request) -> Response | None:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, sep, password = "", "", ""
        if scheme.lower() != "basic" or not sep or password or not secrets.compare_digest(user, self.token):
            return self.focus_error(401, "nao_autorizado", "Token de acesso inválido")
        return None

    # -- NFS-e Nacional ------------------------------------------------------ #

    def emit(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        ref = request.args.get("ref", "")
        if not ref:
            return self.focus_error(400, "requisicao_invalida", 'Parâmetro "ref" não informado')
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.focus_error(400, "requisicao_invalida", "JSON inválido")
        for field in REQUIRED_FIELDS:
            if body.get(field) in (None, ""):
                return self.focus_error(400, "requisicao_invalida", f'Parâmetro "{field}" não informado')
        try:
            problem = _validate_values(body)
        except (InvalidOperation, TypeError, ValueError):
            problem = "Valores numéricos inválidos"
        if problem is not None:
            return self.focus_error(400, "requisicao_invalida", problem)
        with self.lock:
            existing = self.notes.get(ref)
            if existing is not None:
                if existing["status"] == "processando_autorizacao":
                    return self.focus_error(422, "em_processamento", "Nota fiscal em processamento")
                if existing["status"] == "autorizado":
                    return self.focus_error(422, "nfe_autorizada", "Nota fiscal já autorizada")
                if existing["status"] == "cancelado":
                    return self.focus_error(400, "nfe_cancelada", "Nota fiscal já cancelada")
                # erro_autorizacao: Focus accepts the same ref again after corrections
            description = str(body["descricao_servico"])
            marker = _POLLS_MARKER.search(description)
            polls = self.polls.get(ref, int(marker.group(1)) if marker else self.default_polls)
            tomador = body.get("cnpj_tomador") or body.get("cpf_tomador")
            note = {
                "ref": ref,
                "cnpj_prestador": str(body["cnpj_prestador"]),
                "status": "processando_autorizacao",
                "polls_left": polls,
                "deny": DENY_MARKER in description.upper() or tomador in DENIED_TOMADORES,
                "numero_rps": str(self.emissions + 1),
                "body": body,
                "totals": _totals(body),
            }
            self.notes[ref] = note
            self.emissions += 1
            if polls <= 0:
                self._finish(note)
        return json_response(
            {"cnpj_prestador": note["cnpj_prestador"], "ref": ref, "status": "processando_autorizacao"}, 202
        )

    def _finish(self, note: dict[str, Any]) -> None:
        if note["deny"]:
            note["status"] = "erro_autorizacao"
            note["erros"] = list(DENIAL_ERRORS)
            return
        note["status"] = "autorizado"
        note["numero"] = str(sum(1 for n in self.notes.values() if n.get("numero")) + 1)
        note["codigo_verificacao"] = secrets.token_hex(25)
        note["data_emissao"] = datetime.now(UTC).replace(microsecond=0).isoformat()

    def _public(self, note: dict[str, Any], host_url: str) -> dict[str, Any]:
        base = {
            "cnpj_prestador": note["cnpj_prestador"],
            "ref": note["ref"],
            "numero_rps": note["numero_rps"],
            "serie_rps": "1",
            "status": note["status"],
        }
        if note["status"] == "erro_autorizacao":
            return {**base, "erros": note["erros"]}
        if note["status"] in ("autorizado", "cancelado"):
            key = note["codigo_verificacao"]
            out = {
                **base,
                "tipo_rps": "1",
                "numero": note["numero"],
                "codigo_verificacao": key,
                "data_emissao": note["data_emissao"],
                "url": f"https://www.nfse.gov.br/consultapublica/?tpc=1&chave={key}",
                "caminho_xml_nota_fiscal": f"/arquivos/{note['ref']}/nfse.xml",
                "url_danfse": f"{host_url.rstrip('/')}/focusnfe/arquivos/{note['ref']}/danfse.pdf",
            }
            if note["status"] == "cancelado":
                out["caminho_xml_cancelamento"] = f"/arquivos/{note['ref']}/cancelamento.xml"
            return out
        return {**base, "tipo_rps": "1"}

    def get_note(self, request: Request, ref: str) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        with self.lock:
            note = self.notes.get(ref)
            if note is None:
                return self.focus_error(404, "nao_encontrado", "Nota fiscal não encontrada")
            if note["status"] == "processando_autorizacao":
                note["polls_left"] -= 1
                if note["polls_left"] <= 0:
                    self._finish(note)
                    # this read still answers processing; the next one the final status
                    return json_response(
                        {
                            "cnpj_prestador": note["cnpj_prestador"],
                            "ref": ref,
                            "numero_rps": note["numero_rps"],
                            "serie_rps": "1",
                            "tipo_rps": "1",
                            "status": "processando_autorizacao",
                        }
                    )
            return json_response(self._public(note, request.host_url))

    def cancel(self, request: Request, ref: str) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = request.get_json(force=True, silent=True)
        justificativa = body.get("justificativa") if isinstance(body, dict) else None
        with self.lock:
            note = self.notes.get(ref)
            if note is None:
                return self.focus_error(404, "nao_encontrado", "Nota fiscal não encontrada")
            if note["status"] == "cancelado":
                return self.focus_error(400, "nfe_cancelada", "Nota Fiscal já cancelada")
            if note["status"] != "autorizado":
                return self.focus_error(400, "nfe_nao_autorizada", "Nota fiscal não autorizada não pode ser cancelada")
            if not isinstance(justificativa, str) or not 15 <= len(justificativa) <= 255:
                return self.focus_error(
                    400, "requisicao_invalida", 'Parâmetro "justificativa" deve ter de 15 a 255 caracteres'
                )
            note["status"] = "cancelado"
        return json_response({"status": "cancelado"})

    def file(self, request: Request, path: str) -> Response:
        ref, _, name = path.partition("/")
        if name != "danfse.pdf" and (denied := self._denied(request)) is not None:
            return denied  # the XML path is on the API host (authenticated); the PDF is "on S3"
        with self.lock:
            note = self.notes.get(ref)
        if note is None or note["status"] not in ("autorizado", "cancelado"):
            return self.focus_error(404, "nao_encontrado", "Arquivo não encontrado")
        if name == "danfse.pdf":
            return Response(PDF_BYTES + ref.encode(), content_type="application/pdf")
        if name in ("nfse.xml", "cancelamento.xml"):
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?><NFSe xmlns="http://www.sped.fazenda.gov.br/nfse">'
                f"<infNFSe><nNFSe>{note['numero']}</nNFSe><ref>{ref}</ref></infNFSe></NFSe>"
            )
            return Response(xml.encode(), content_type="application/xml")
        return self.focus_error(404, "nao_encontrado", "Arquivo não encontrado")


def _deduction(body: dict[str, Any]) -> Decimal:
    if body.get("percentual_deducao_servico") is not None:
        return _rate_of(_money(body["valor_servico"]), _money(body["percentual_deducao_servico"]))
    return _money(body.get("valor_deducao_servico"))


def _totals(body: dict[str, Any]) -> dict[str, Decimal]:
    """The note's totals as the national layout computes them."""
    service = _money(body["valor_servico"])
    base = service - _deduction(body)
    iss = _rate_of(base, _money(body.get("percentual_aliquota_relativa_municipio")))
    iss_withheld = iss if body.get("tipo_retencao_iss") == 2 else Decimal(0)
    withheld = (
        _money(body.get("valor_cp")) + _money(body.get("valor_irrf")) + _money(body.get("valor_csll")) + iss_withheld
    )
    return {
        "base_calculo_iss": base,
        "valor_iss": iss,
        "valor_total_retencoes": withheld,
        "valor_liquido": service - withheld,
    }


def _validate_values(body: dict[str, Any]) -> str | None:
    if len(str(body["descricao_servico"])) > DESCRIPTION_MAX:
        return f'"descricao_servico" aceita no máximo {DESCRIPTION_MAX} caracteres'
    service = _money(body["valor_servico"])
    if service <= 0:
        return '"valor_servico" deve ser maior que zero'
    has_value, has_rate = (
        body.get("valor_deducao_servico") is not None,
        body.get("percentual_deducao_servico") is not None,
    )
    if has_value and has_rate:
        return 'Informe "valor_deducao_servico" ou "percentual_deducao_servico", não ambos'
    if has_rate and not Decimal(0) < _money(body["percentual_deducao_servico"]) < 100:
        return '"percentual_deducao_servico" deve estar entre 0 e 100'
    if not Decimal(0) <= _deduction(body) < service:
        return "O valor da dedução deve ser menor que o valor do serviço"
    retained = _money(body.get("valor_csll"))
    code = body.get("tipo_retencao_pis_cofins")
    if code is None and retained:
        return '"valor_csll" informado sem "tipo_retencao_pis_cofins" dizendo quais tributos foram retidos'
    if code is not None and (
        problem := retention_problem(
            code, retained, code_field='"tipo_retencao_pis_cofins"', total_field='"valor_csll"'
        )
    ):
        return problem
    own = Decimal(0)
    for value_field, rate_field in (("valor_pis", "aliquota_pis"), ("valor_cofins", "aliquota_cofins")):
        if body.get(value_field) is None:
            continue
        if body.get("base_calculo_pis_cofins") is None or body.get(rate_field) is None:
            return f'"{value_field}" (apuração própria) exige "base_calculo_pis_cofins" e "{rate_field}"'
        expected = _rate_of(_money(body["base_calculo_pis_cofins"]), _money(body[rate_field]))
        if abs(expected - _money(body[value_field])) > CENT:
            return f'"{value_field}" difere de base_calculo_pis_cofins x {rate_field} ({expected}) em mais de R$ 0,01'
        own += _money(body[value_field])
    withheld = _totals(body)["valor_total_retencoes"]
    if withheld >= service:
        return f"O total de retenções ({withheld}) deve ser menor que o valor do serviço ({service})"
    federal = body.get("valor_total_tributos_federais")
    if federal is not None and _money(federal) < own:
        return '"valor_total_tributos_federais" menor que o PIS e a COFINS próprios informados'
    return None


# Self-registration: the local cloud serves SANDBOX at /focusnfe and seeds DEMO_SECRETS.
SANDBOX = FocusNfeSandbox
DEMO_SECRETS = (
    DemoSecret("focusnfe", lambda base_url: {"base_url": base_url, "token": DEMO_TOKEN, "environment": "homologacao"}),
)
