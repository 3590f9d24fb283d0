"""One OAuth2 authorization server for the OAuth providers' sandboxes (google, linkedin, canva,
facebook, instagram): each declares an :class:`OAuthProfile` (its paths, client auth, token
shapes, error format) and gets the same behaviour. Not a provider itself (excluded from the
registry like ``base``).

Authorization (``GET authorize_path``) auto-approves, as a user clicking "Allow" would, after
checking what the real server checks: ``client_id`` (unknown → 400 page), ``redirect_uri`` (must
end in ``/oauth/{provider}/callback``; never redirected to otherwise, RFC 6749 §4.1.2.1),
``response_type=code``, the scopes (unknown → ``error=invalid_scope``) and, where the provider
takes PKCE, ``code_challenge`` with ``code_challenge_method=S256`` (required where the profile
says so). It redirects to ``redirect_uri?code=…&state=…``, or ``?error=access_denied&state=…``
when the switch says the user refused.

The token endpoint exchanges a code once (same client, same redirect_uri, and
``BASE64URL(SHA256(code_verifier)) == code_challenge``; RFC 7636 §4.6) and refreshes
(``grant_type=refresh_token``: expiring access tokens, single-use rotating refresh tokens for
Canva-style profiles, every refresh token's uses counted). Meta's long-lived exchanges
(``fb_exchange_token``, ``ig_exchange_token``, ``ig_refresh_token``) issue ~60-day tokens.
API routes wrapped in :meth:`OAuthSandbox.authorized` accept a live issued access token (or the
demo one) as ``Authorization: Bearer``.

Control (``POST {provider}/_sandbox/oauth`` with any of): ``{"deny": "access_denied" | null,
"invalid_grant": true|false, "fail_5xx": N, "access_token_lifetime": seconds}``; ``GET`` answers
the counters: ``codes_exchanged``, ``long_lived_exchanges``, ``refreshes``, ``refresh_uses``
(per refresh token), ``live_access_tokens``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from localcloud.sandboxes.base import Sandbox, json_response, reason

ErrorFormat = Literal["rfc", "graph", "instagram"]
CODE_TTL_SECONDS = 600


@dataclass(frozen=True)
class OAuthProfile:
    client_id: str
    client_secret: str
    authorize_path: str
    exchange_path: str
    scopes: frozenset[str]
    demo_access_token: str
    demo_refresh_token: str | None = None
    pkce: Literal["required", "optional", "none"] = "optional"
    client_auth: Literal["body", "basic", "either"] = "either"
    exchange_method: Literal["POST", "GET"] = "POST"
    access_token_lifetime: int = 3600
    issue_refresh_token: bool = True
    rotating_refresh_token: bool = False
    # How the token answer reports scopes: "space" (RFC 6749 §5.1), "comma", or not at all.
    scope_in_answer: Literal["space", "comma", "none"] = "space"
    # "data": Instagram Login's {"data": [{"access_token", "user_id", "permissions"}]}.
    answer_shape: Literal["standard", "data"] = "standard"
    error_format: ErrorFormat = "rfc"
    # Meta's long-lived tokens: the grant type on the long-lived path, and its lifetime.
    long_lived_path: str | None = None
    long_lived_grant: str | None = None
    refresh_long_lived_path: str | None = None
    long_lived_lifetime: int = 60 * 24 * 3600
    scope_separators: str = " "


@dataclass
class _Issued:
    client_id: str
    scopes: list[str]
    expires_at: float
    kind: str = "short"


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    expires_at: float


@dataclass
class _Switches:
    deny: str | None = None
    invalid_grant: bool = False
    fail_5xx: int = 0
    access_token_lifetime: int | None = None


@dataclass
class _State:
    codes: dict[str, _Code] = field(default_factory=dict)
    access: dict[str, _Issued] = field(default_factory=dict)
    refresh: dict[str, _Issued] = field(default_factory=dict)
    used_refresh: set[str] = field(default_factory=set)
    refresh_uses: dict[str, int] = field(default_factory=dict)
    codes_exchanged: int = 0
    long_lived_exchanges: int = 0
    refreshes: int = 0
    switches: _Switches = field(default_factory=_Switches)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class OAuthSandbox(Sandbox):
    """A sandbox whose provider authenticates with OAuth2 (see the module docstring)."""

    profile: OAuthProfile

    def __init__(self) -> None:
        super().__init__()
        self.state = _State()
        p = self.profile
        self.route(p.authorize_path, ["GET"], self.authorize)
        self.route(p.exchange_path, [p.exchange_method], self.token)
        if p.long_lived_path and p.long_lived_path != p.exchange_path:
            self.route(p.long_lived_path, ["GET"], self.long_lived)
        if p.refresh_long_lived_path:
            self.route(p.refresh_long_lived_path, ["GET"], self.long_lived)
        self.route("/_sandbox/oauth", ["GET", "POST"], self.control)

    def reset(self) -> None:
        with self.lock:
            self.state = _State()

    # ----- errors in the provider's format ---------------------------------------------------
    def oauth_error(self, status: int, error: str, description: str) -> Response:
        fmt = self.profile.error_format
        if fmt == "graph":
            body: dict[str, Any] = {
                "error": {"message": description, "type": "OAuthException", "code": 100, "fbtrace_id": "Sandbox01"}
            }
        elif fmt == "instagram":
            body = {"error_type": "OAuthException", "code": status, "error_message": description}
        else:  # RFC 6749 §5.2
            body = {"error": error, "error_description": description}
        return json_response(body, status)

    def unauthorized(self) -> Response:
        """The API's answer to a missing/expired/unknown access token (override per provider)."""
        return self.error_response(401, "Invalid or expired access token")

    # ----- authorization ---------------------------------------------------------------------
    def authorize(self, request: Request, **_: Any) -> Response:
        p = self.profile
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != p.client_id:
            return Response("unknown client_id", status=400, content_type="text/plain")
        if not redirect_uri.startswith(("http://", "https://")) or not redirect_uri.endswith(
            f"/oauth/{self.provider}/callback"
        ):
            return Response("redirect_uri is not registered for this app", status=400, content_type="text/plain")
        state = args.get("state")

        def back(**params: str) -> Response:
            if state is not None:
                params["state"] = state
            return Response(status=302, headers={"Location": f"{redirect_uri}?{urlencode(params)}"})

        if args.get("response_type") != "code":
            return back(error="unsupported_response_type")
        scopes = [s for s in _split(args.get("scope", ""), p.scope_separators) if s]
        if not scopes or not set(scopes) <= p.scopes:
            return back(error="invalid_scope")
        challenge = args.get("code_challenge")
        if p.pkce == "required" and not challenge:
            return back(error="invalid_request", error_description="code_challenge required")
        if challenge and (p.pkce == "none" or args.get("code_challenge_method") != "S256"):
            return back(error="invalid_request", error_description="code_challenge_method must be S256")
        with self.lock:
            if self.state.switches.deny:
                return back(error=self.state.switches.deny, error_description="The user denied the request")
            code = secrets.token_urlsafe(24)
            self.state.codes[code] = _Code(p.client_id, redirect_uri, scopes, challenge, time.time() + CODE_TTL_SECONDS)
        return back(code=code)

    # ----- token endpoint --------------------------------------------------------------------
    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        p = self.profile
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic ") and p.client_auth in ("basic", "either"):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return (client_id, secret) == (p.client_id, p.client_secret)
        if p.client_auth == "basic":
            return False
        return (form.get("client_id"), form.get("client_secret")) == (p.client_id, p.client_secret)

    def _faulted(self) -> Response | None:
        with self.lock:
            if self.state.switches.fail_5xx > 0:
                self.state.switches.fail_5xx -= 1
                return self.oauth_error(503, "temporarily_unavailable", "The service is temporarily unavailable")
        return None

    def token(self, request: Request, **_: Any) -> Response:
        p = self.profile
        form = dict(request.args if p.exchange_method == "GET" else request.form)
        if (fault := self._faulted()) is not None:
            return fault
        grant = form.get("grant_type", "authorization_code" if p.exchange_method == "GET" else "")
        if grant == p.long_lived_grant and p.long_lived_path == p.exchange_path:
            return self._long_lived(form)
        if not self._client_ok(request, form):
            return self.oauth_error(401, "invalid_client", "Client authentication failed")
        if grant == "authorization_code":
            return self._exchange(form)
        if grant == "refresh_token" and p.issue_refresh_token:
            return self._refresh(form)
        return self.oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _exchange(self, form: dict[str, str]) -> Response:
        with self.lock:
            code = self.state.codes.pop(form.get("code", ""), None)  # single use
            if self.state.switches.invalid_grant:
                return self.oauth_error(400, "invalid_grant", "The grant is invalid or revoked")
            if code is None or code.expires_at < time.time():
                return self.oauth_error(400, "invalid_grant", "Invalid or already used authorization code")
            if form.get("redirect_uri") != code.redirect_uri:
                return self.oauth_error(400, "invalid_grant", "redirect_uri does not match the authorization request")
            if code.challenge is not None:
                verifier = form.get("code_verifier", "")
                if not verifier or s256(verifier) != code.challenge:
                    return self.oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge")
            self.state.codes_exchanged += 1
            return self._issue(code.scopes, refresh=self.profile.issue_refresh_token)

    def _refresh(self, form: dict[str, str]) -> Response:
        token = form.get("refresh_token", "")
        with self.lock:
            self.state.refresh_uses[token] = self.state.refresh_uses.get(token, 0) + 1
            if self.state.switches.invalid_grant:
                return self.oauth_error(400, "invalid_grant", "The refresh token is invalid or revoked")
            issued = self.state.refresh.get(token)
            if token == self.profile.demo_refresh_token and token not in self.state.used_refresh:
                issued = _Issued(self.profile.client_id, sorted(self.profile.scopes), float("inf"))
            if issued is None or token in self.state.used_refresh:
                return self.oauth_error(400, "invalid_grant", "The refresh token is invalid, expired or already used")
            self.state.refreshes += 1
            if self.profile.rotating_refresh_token:
                self.state.used_refresh.add(token)
                self.state.refresh.pop(token, None)
            return self._issue(issued.scopes, refresh=self.profile.rotating_refresh_token)

    def _issue(self, scopes: list[str], *, refresh: bool, lifetime: int | None = None, kind: str = "short") -> Response:
        """A token answer (caller holds the lock)."""
        p = self.profile
        life = lifetime or self.state.switches.access_token_lifetime or p.access_token_lifetime
        access = f"{self.provider}-at-{secrets.token_urlsafe(18)}"
        self.state.access[access] = _Issued(p.client_id, scopes, time.time() + life, kind)
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": life}
        if refresh:
            token = f"{self.provider}-rt-{secrets.token_urlsafe(18)}"
            self.state.refresh[token] = _Issued(p.client_id, scopes, float("inf"))
            body["refresh_token"] = token
        if p.scope_in_answer == "space":
            body["scope"] = " ".join(scopes)
        elif p.scope_in_answer == "comma":
            body["scope"] = ",".join(scopes)
        if p.answer_shape == "data" and kind == "short":
            return json_response(
                {"data": [{"access_token": access, "user_id": "17841400000000001", "permissions": ",".join(scopes)}]}
            )
        return json_response(body)

    # ----- Meta's long-lived tokens ----------------------------------------------------------
    def long_lived(self, request: Request, **_: Any) -> Response:
        if (fault := self._faulted()) is not None:
            return fault
        return self._long_lived(dict(request.args))

    def _long_lived(self, form: dict[str, str]) -> Response:
        p = self.profile
        grant = form.get("grant_type")
        if grant == "ig_refresh_token":
            token = form.get("access_token", "")
        else:
            if form.get("client_secret") != p.client_secret or (
                grant == "fb_exchange_token" and form.get("client_id") != p.client_id
            ):
                return self.oauth_error(400, "invalid_client", "Error validating client secret.")
            token = form.get("fb_exchange_token" if grant == "fb_exchange_token" else "access_token", "")
        with self.lock:
            if self.state.switches.invalid_grant:
                return self.oauth_error(400, "invalid_grant", "Error validating access token: the session is invalid")
            issued = self.state.access.get(token)
            if grant not in (p.long_lived_grant, "ig_refresh_token") or issued is None:
                return self.oauth_error(400, "invalid_request", "Invalid OAuth access token.")
            if issued.expires_at < time.time():
                return self.oauth_error(400, "invalid_grant", "Error validating access token: the session has expired")
            if grant == "ig_refresh_token":
                self.state.refreshes += 1
                self.state.refresh_uses[token] = self.state.refresh_uses.get(token, 0) + 1
            else:
                self.state.long_lived_exchanges += 1
            life = self.state.switches.access_token_lifetime or p.long_lived_lifetime
            return self._issue(issued.scopes, refresh=False, lifetime=life, kind="long")

    # ----- the API's bearer check ------------------------------------------------------------
    def authorized(self, handler: Callable[..., Response]) -> Callable[..., Response]:
        def wrapped(request: Request, **kwargs: Any) -> Response:
            header = request.headers.get("Authorization", "")
            token = header[7:] if header.startswith("Bearer ") else request.args.get("access_token", "")
            with self.lock:
                issued = self.state.access.get(token)
                live = token == self.profile.demo_access_token or (
                    issued is not None and issued.expires_at > time.time()
                )
            if not live:
                return self.unauthorized()
            return handler(request, **kwargs)

        return wrapped

    # ----- control ---------------------------------------------------------------------------
    def control(self, request: Request, **_: Any) -> Response:
        with self.lock:
            if request.method == "POST":
                data = request.get_json(force=True, silent=True) or {}
                switches = self.state.switches
                if "deny" in data:
                    switches.deny = data["deny"] or None
                if "invalid_grant" in data:
                    switches.invalid_grant = bool(data["invalid_grant"])
                if "fail_5xx" in data:
                    switches.fail_5xx = int(data["fail_5xx"])
                if "access_token_lifetime" in data:
                    value = data["access_token_lifetime"]
                    switches.access_token_lifetime = int(value) if value else None
            now = time.time()
            return json_response(
                {
                    "codes_exchanged": self.state.codes_exchanged,
                    "long_lived_exchanges": self.state.long_lived_exchanges,
                    "refreshes": self.state.refreshes,
                    "refresh_uses": dict(self.state.refresh_uses),
                    "live_access_tokens": sum(1 for t in self.state.access.values() if t.expires_at > now),
                    "switches": vars(self.state.switches),
                }
            )


def _split(value: str, separators: str) -> list[str]:
    for sep in separators[1:]:
        value = value.replace(sep, separators[0])
    return value.split(separators[0])


def rfc_error(status: int, message: str | None = None) -> dict[str, Any]:
    return {"error": reason(status).lower().replace(" ", "_"), "error_description": message or reason(status)}
