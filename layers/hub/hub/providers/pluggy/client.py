"""Pluggy: the payout bank account's statement, through an Open Finance aggregator.

The provider's API facts this module relies on, with their doc links: README.md.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from hub.config import get_settings
from hub.errors import (
    AuthenticationError,
    HubError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitedError,
)
from hub.money import reais_to_cents
from hub.providers.base.auth import CONTAINER_TOKENS, ClientCredentialsTokens, Token
from hub.providers.base.client import ProviderClient, ProviderCredentials, parse_retry_after

PROVIDER = "pluggy"

# https://docs.pluggy.ai/reference/authentication: an API key lives 2 hours. Refreshed 10 minutes
# early so a key never expires between the check and a page of a long listing.
API_KEY_TTL_SECONDS = 2 * 60 * 60
API_KEY_REFRESH_MARGIN_SECONDS = 10 * 60
# https://docs.pluggy.ai/docs/transactions: up to 500 transactions per request.
MAX_PAGE_SIZE = 500
# A bound on pages followed for one listing (500 * 200 = 100,000 lines): a provider answering an
# ever-growing totalPages can never keep the hub looping.
MAX_PAGES = 200
# https://docs.pluggy.ai/docs/rate-limits: the window is one minute.
DEFAULT_RATE_LIMIT_RETRY_AFTER = 60.0

# https://docs.pluggy.ai/docs/item-lifecycle
ITEM_HEALTHY_STATUSES = frozenset({"UPDATED", "UPDATING"})
ITEM_NEEDS_USER_STATUSES = frozenset({"LOGIN_ERROR", "WAITING_USER_INPUT"})

TransactionType = Literal["CREDIT", "DEBIT"]


class PluggyCredentials(ProviderCredentials):
    client_id: str
    client_secret: SecretStr
    # The connected bank (Pluggy "item") holding the payout account.
    item_id: str
    # The payout account; when absent, the item's BANK account is used.
    account_id: str | None = None


# ----- results ---------------------------------------------------------------------------------


class BankAccountInfo(BaseModel):
    """One account of the connected bank (https://docs.pluggy.ai: Account)."""

    model_config = ConfigDict(frozen=True)

    provider: str = PROVIDER
    account_id: str
    item_id: str | None = None
    type: str = ""
    subtype: str | None = None
    name: str | None = None
    marketing_name: str | None = None
    number: str | None = None
    transfer_number: str | None = None
    owner: str | None = None
    tax_number: str | None = None
    currency: str = "BRL"
    balance_cents: int | None = None


class BankParticipant(BaseModel):
    """A payer or receiver of a transfer (``paymentData.payer``/``receiver``)."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    document: str | None = None
    document_type: str | None = None
    account_number: str | None = None
    branch_number: str | None = None
    routing_number: str | None = None


class BankTransaction(BaseModel):
    """One statement line. ``amount_cents`` is signed: credits positive, debits negative."""

    model_config = ConfigDict(frozen=True)

    provider: str = PROVIDER
    transaction_id: str
    account_id: str | None = None
    date: date
    posted_at: datetime | None = None
    description: str = ""
    amount_cents: int
    currency: str = "BRL"
    type: TransactionType
    status: str | None = None
    category: str | None = None
    provider_code: str | None = None
    payment_method: str | None = None
    reference_number: str | None = None
    payer: BankParticipant | None = None
    receiver: BankParticipant | None = None

    @property
    def counterparty(self) -> BankParticipant | None:
        """Who paid us (a credit) or whom we paid (a debit)."""
        return self.payer if self.type == "CREDIT" else self.receiver


# ----- the API key cache -----------------------------------------------------------------------

# Kept by hub.providers.base.auth, keyed by (base_url, client_id, sha256(client_secret)): a
# rotated (or wrong) secret never rides on a key another secret obtained.
_clock: Callable[[], float] = time.time


def clear_api_key_cache() -> None:
    CONTAINER_TOKENS.clear(PROVIDER)


class _StaleApiKey(InvalidRequestError):
    """A 401 answered to a *cached* key: fetch a new key and try once more. Not an
    AuthenticationError, so the shared path does not disable the integration for it."""


def _cents(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ProviderUnavailableError(f"pluggy returned no usable {field}", provider=PROVIDER, code="invalid_amount")
    try:
        return reais_to_cents(value, field=field)
    except InvalidRequestError as exc:  # more than two decimals: not centavos, never rounded
        raise ProviderUnavailableError(
            f"pluggy returned an unusable {field}: {exc.message}", provider=PROVIDER, code="invalid_amount"
        ) from None


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _participant(raw: Any) -> BankParticipant | None:
    if not isinstance(raw, dict):
        return None
    doc = raw.get("documentNumber")
    if isinstance(doc, dict):
        document, document_type = _str(doc.get("value")), _str(doc.get("type"))
    else:
        document, document_type = _str(doc), None
    if document:
        document = "".join(ch for ch in document if ch.isalnum()).upper()
    return BankParticipant(
        name=_str(raw.get("name")),
        document=document or None,
        document_type=document_type,
        account_number=_str(raw.get("accountNumber")),
        branch_number=_str(raw.get("branchNumber")),
        routing_number=_str(raw.get("routingNumber")),
    )


def _parse_when(value: Any) -> tuple[date, datetime | None]:
    if not isinstance(value, str) or not value:
        raise ProviderUnavailableError("pluggy returned a transaction without a date", provider=PROVIDER)
    try:
        if len(value) == 10:
            return date.fromisoformat(value), None
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProviderUnavailableError(
            f"pluggy returned an unreadable transaction date {value[:40]!r}", provider=PROVIDER
        ) from None
    # The posted date as Pluggy reports it (ISO 8601, UTC): its calendar date.
    return when.date(), when


def parse_transaction(raw: dict[str, Any]) -> BankTransaction:
    """A Pluggy transaction → :class:`BankTransaction` (exact centavos, signed by ``type``)."""
    transaction_id = raw.get("id")
    if not isinstance(transaction_id, str) or not transaction_id:
        raise ProviderUnavailableError("pluggy returned a transaction without an id", provider=PROVIDER)
    magnitude = abs(_cents(raw.get("amount"), "amount"))
    kind = str(raw.get("type") or "").upper()
    if kind not in ("CREDIT", "DEBIT"):
        # ``type`` is documented as required; without it the amount's own sign is all there is.
        amount = raw.get("amount")
        kind = "DEBIT" if isinstance(amount, int | Decimal) and amount < 0 else "CREDIT"
    day, posted_at = _parse_when(raw.get("date"))
    payment = raw.get("paymentData") if isinstance(raw.get("paymentData"), dict) else {}
    assert isinstance(payment, dict)
    return BankTransaction(
        transaction_id=transaction_id,
        account_id=_str(raw.get("accountId")),
        date=day,
        posted_at=posted_at,
        description=str(raw.get("description") or raw.get("descriptionRaw") or ""),
        amount_cents=magnitude if kind == "CREDIT" else -magnitude,
        currency=str(raw.get("currencyCode") or "BRL"),
        type="CREDIT" if kind == "CREDIT" else "DEBIT",
        status=_str(raw.get("status")),
        category=_str(raw.get("category")),
        provider_code=_str(raw.get("providerCode")),
        payment_method=_str(payment.get("paymentMethod")),
        reference_number=_str(payment.get("referenceNumber")),
        payer=_participant(payment.get("payer")),
        receiver=_participant(payment.get("receiver")),
    )


def parse_account(raw: dict[str, Any]) -> BankAccountInfo:
    account_id = raw.get("id")
    if not isinstance(account_id, str) or not account_id:
        raise ProviderUnavailableError("pluggy returned an account without an id", provider=PROVIDER)
    balance = raw.get("balance")
    bank_data = raw.get("bankData") if isinstance(raw.get("bankData"), dict) else {}
    assert isinstance(bank_data, dict)
    return BankAccountInfo(
        account_id=account_id,
        item_id=_str(raw.get("itemId")),
        type=str(raw.get("type") or ""),
        subtype=_str(raw.get("subtype")),
        name=_str(raw.get("name")),
        marketing_name=_str(raw.get("marketingName")),
        number=_str(raw.get("number")),
        transfer_number=_str(bank_data.get("transferNumber")),
        owner=_str(raw.get("owner")),
        tax_number=_str(raw.get("taxNumber")),
        currency=str(raw.get("currencyCode") or "BRL"),
        balance_cents=_cents(balance, "balance") if balance is not None else None,
    )


class PluggyClient(ProviderClient):
    """The org's payout bank account through Pluggy (accounts, transactions, item health)."""

    provider: ClassVar[str] = PROVIDER
    # https://docs.pluggy.ai/docs/basic-concepts
    credentials_model: ClassVar[type[ProviderCredentials]] = PluggyCredentials

    credentials: PluggyCredentials

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._authenticating = False
        self._key_was_cached = False

    # ----- auth ------------------------------------------------------------------------------
    @cached_property
    def tokens(self) -> ClientCredentialsTokens:
        secret = self.credentials.client_secret.get_secret_value().encode("utf-8")
        return ClientCredentialsTokens(
            self._fetch_api_key,
            provider=self.provider,
            org_id=self.org_id,
            key=(self.base_url, self.credentials.client_id, hashlib.sha256(secret).hexdigest()),
            clock=lambda: _clock(),
        )

    def _forget_api_key(self) -> None:
        self.tokens.invalidate()

    def api_key(self) -> tuple[str, bool]:
        """(API key, whether it was already cached). Fetches one with ``POST /auth`` when none
        is cached or the cached one is within the refresh margin of its 2 h lifetime."""
        return self.tokens.token_and_origin()

    def _fetch_api_key(self) -> Token:
        # https://docs.pluggy.ai/reference/authentication: {"clientId", "clientSecret"} → {"apiKey"}
        self._authenticating = True
        try:
            response = self.request(
                "POST",
                "/auth",
                json={
                    "clientId": self.credentials.client_id,
                    "clientSecret": self.credentials.client_secret.get_secret_value(),
                },
                operation="auth",
                authenticate=False,  # POST /auth carries the client credentials in its body
            )
        finally:
            self._authenticating = False
        body = self.json_payload(response)
        key = body.get("apiKey") if isinstance(body, dict) else None
        if not isinstance(key, str) or not key:
            raise ProviderUnavailableError("pluggy /auth answered without an apiKey", provider=self.provider)
        return Token.issued(key, now=_clock(), lifetime=API_KEY_TTL_SECONDS, margin=API_KEY_REFRESH_MARGIN_SECONDS)

    def auth_headers(self) -> dict[str, str]:
        key, cached = self.api_key()
        self._key_was_cached = cached
        return {"X-API-KEY": key}

    def _get(self, path: str, params: dict[str, Any] | None = None, *, operation: str, **kwargs: Any) -> Any:
        """GET with the API key; a 401 to a cached key drops it and tries once with a new one."""
        try:
            response = self.request("GET", path, params=params, operation=operation, **kwargs)
        except _StaleApiKey:
            self._forget_api_key()
            response = self.request("GET", path, params=params, operation=operation, **kwargs)
        return self.json_payload(response)

    # ----- errors ----------------------------------------------------------------------------
    # https://docs.pluggy.ai/docs/errors-codes: {"message", "code", "codeDescription"?}
    def error_details(self, response: httpx.Response) -> tuple[str, str | None]:
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            code = body.get("codeDescription") or body.get("code")
            return body["message"][:300], (str(code) if code is not None else None)
        return super().error_details(response)

    def classify(self, response: httpx.Response) -> HubError | None:
        error = super().classify(response)
        if error is None:
            return None
        if response.status_code == 401 and not self._authenticating and self._key_was_cached:
            return error.recast(_StaleApiKey)
        if isinstance(error, RateLimitedError):
            # https://docs.pluggy.ai/docs/rate-limits: RateLimit-Reset is the real wait;
            # Retry-After is always 60.
            reset = parse_retry_after(response.headers.get("ratelimit-reset"), default=0.0)
            retry_after = reset or parse_retry_after(
                response.headers.get("retry-after"), default=DEFAULT_RATE_LIMIT_RETRY_AFTER
            )
            return error.recast(RateLimitedError, retry_after=retry_after)
        return error

    # ----- calls -----------------------------------------------------------------------------
    def list_accounts(self) -> list[BankAccountInfo]:
        """GET /accounts?itemId= — the connected bank's accounts."""
        body = self._get("/accounts", {"itemId": self.credentials.item_id}, operation="accounts")
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise ProviderUnavailableError("pluggy /accounts answered without results", provider=self.provider)
        return [parse_account(raw) for raw in results if isinstance(raw, dict)]

    def payout_account_id(self) -> str:
        """The configured ``account_id``, else the item's BANK account (a checking account first)."""
        if self.credentials.account_id:
            return self.credentials.account_id
        banks = [a for a in self.list_accounts() if a.type.upper() == "BANK"]
        if not banks:
            raise InvalidRequestError(
                "the connected Pluggy item has no BANK account; set account_id in the pluggy secret",
                provider=self.provider,
                code="no_bank_account",
            )
        banks.sort(key=lambda a: 0 if (a.subtype or "").upper() == "CHECKING_ACCOUNT" else 1)
        return banks[0].account_id

    def list_transactions(
        self, start: date, end: date, account_id: str | None = None, *, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[BankTransaction]:
        """GET /transactions?accountId=&from=&to=&pageSize=&page= — every page, 1 … totalPages
        (https://docs.pluggy.ai/docs/basic-concepts#pagination), ``from``/``to`` inclusive dates."""
        if end < start:
            raise InvalidRequestError("end is before start", provider=self.provider, code="invalid_period")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidRequestError(
                f"page_size must be 1-{MAX_PAGE_SIZE}", provider=self.provider, code="invalid_page_size"
            )
        account = account_id or self.payout_account_id()
        return self._iter_transactions(account, start, end, page_size)

    def _iter_transactions(self, account: str, start: date, end: date, page_size: int) -> Iterator[BankTransaction]:
        page, total_pages = 1, 1
        while page <= total_pages:
            params = {
                "accountId": account,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "pageSize": page_size,
                "page": page,
            }
            body = self._get("/transactions", params, operation="transactions")
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list):
                raise ProviderUnavailableError("pluggy /transactions answered without results", provider=self.provider)
            for raw in results:
                if isinstance(raw, dict):
                    yield parse_transaction(raw)
            pages = body.get("totalPages")
            total_pages = min(pages, MAX_PAGES) if isinstance(pages, int) and not isinstance(pages, bool) else 0
            if not results:
                break
            page += 1

    def get_item(self) -> dict[str, Any]:
        body = self._get(
            f"/items/{self.credentials.item_id}", operation="items", timeout=get_settings().health_check_timeout
        )
        if not isinstance(body, dict):
            raise ProviderUnavailableError("pluggy /items answered without an item", provider=self.provider)
        return body

    def health_check(self) -> None:
        """The API key (``POST /auth``, or the cached one) + ``GET /items/{item_id}``: healthy
        while the item is UPDATED (or UPDATING). LOGIN_ERROR / WAITING_USER_INPUT →
        AuthenticationError: the bank connection needs the user to reconnect in Pluggy Connect.
        OUTDATED (the last sync failed; Pluggy retries) → ProviderUnavailableError."""
        item = self.get_item()
        status = str(item.get("status") or "").upper()
        if status in ITEM_HEALTHY_STATUSES:
            return
        error = item.get("error") if isinstance(item.get("error"), dict) else {}
        assert isinstance(error, dict)
        detail = f": {str(error['message'])[:200]}" if error.get("message") else ""
        if status in ITEM_NEEDS_USER_STATUSES:
            raise AuthenticationError(
                f"the bank connection (Pluggy item) is {status}: the account owner must reconnect the bank "
                f"in Pluggy Connect{detail}",
                provider=self.provider,
                code=f"item_{status.lower()}",
            )
        raise ProviderUnavailableError(
            f"the bank connection (Pluggy item) is {status or 'unknown'}{detail}",
            provider=self.provider,
            code=f"item_{status.lower() or 'unknown'}",
        )
