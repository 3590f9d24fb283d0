"""Capability ports: what domain code may ask an org for ("the org's WhatsApp sender"), never a class.

Each Protocol holds exactly the calls domain code makes. An adapter implements a port by having
those members (structural typing: no base class to inherit) and its descriptor declares the port
by name in ``capabilities``. :func:`for_org` resolves the org's adapter through the registry,
checks both, and returns it typed as the port; provider quirks (WhatsApp Cloud's 24 h window,
SES having no batch call) are members of the adapter behind the port, never ``isinstance`` checks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, cast, get_args

from typing_extensions import get_protocol_members

from hub.errors import ConfigurationError, HubError, InvalidRequestError, ProviderUnavailableError
from hub.providers import all_descriptors, descriptor
from hub.providers.base.descriptor import Capability

if TYPE_CHECKING:
    from hub.ai.models import Completion, Embeddings, GeneratedImage, ImageJob, ImageSize, LlmRequest
    from hub.analytics.models import AnalyticsEvent, SinkOutcome
    from hub.fiscal.nfse_models import NfseCancellation, NfseRequest, NfseStatus
    from hub.payments.models import (
        BillingType,
        ChargeResult,
        ChargeSpec,
        Customer,
        ProviderCustomer,
        RefundResult,
        SubscriptionCreated,
        SubscriptionSpec,
    )
    from hub.providers.asaas.client import (
        FinancialTransaction,
        PaymentLinkResult,
        PixKeyType,
        PixQrCode,
        TransferResult,
    )
    from hub.providers.base.client import ProviderClient
    from hub.providers.base.webhook import WebhookRegistration
    from hub.providers.outbound import MediaMessage, OutboundEmail, SentEmail, SentMessage, WhatsAppTemplate
    from hub.providers.pluggy.client import BankTransaction
    from hub.search.models import Engine, SearchResults
    from hub.social.models import (
        DayMetrics,
        PostMetrics,
        PublishedPost,
        PublishStep,
        SocialAccount,
        SocialContent,
        SocialPost,
    )

PortT = TypeVar("PortT")
ChargeT = TypeVar("ChargeT")


# ----- messaging ------------------------------------------------------------------------------


class WhatsAppSender(Protocol):
    """Evolution API, WhatsApp Cloud API."""

    @property
    def provider(self) -> str: ...

    @property
    def enforces_service_window(self) -> bool:
        """True when free-form messages are delivered only within 24 h of the contact's last
        message (Cloud API); False for channels Meta's window does not apply to (Evolution)."""
        ...

    def send_text(
        self, to_e164: str, text: str, *, delay_ms: int | None = None, preview_url: bool = False
    ) -> SentMessage: ...

    def send_media(self, to_e164: str, media: MediaMessage) -> SentMessage: ...

    def send_template(self, to_e164: str, template: WhatsAppTemplate) -> SentMessage: ...


class SmsSender(Protocol):
    """Twilio."""

    def send_sms(self, to_e164: str, body: str) -> SentMessage: ...


class EmailSender(Protocol):
    """Resend, Amazon SES."""

    def send_email(self, email: OutboundEmail, *, idempotency_key: str) -> SentEmail: ...

    def send_batch(self, emails: list[OutboundEmail], *, idempotency_key: str) -> list[SentEmail]:
        """Every email, answered in order (one call where the provider has a batch API)."""
        ...


# ----- AI -------------------------------------------------------------------------------------


class TextGenerator(Protocol):
    """Anthropic, OpenAI, Gemini."""

    def generate(self, request: LlmRequest, model: str) -> Completion: ...


class ImageGenerator(Protocol):
    """OpenAI (synchronous), Replicate (a prediction that may still be running)."""

    def create_image(self, prompt: str, model: str, *, size: ImageSize) -> GeneratedImage | ImageJob:
        """The image, or the still-running job to poll later (never waited for here)."""
        ...

    def poll_image(self, job_id: str, *, model: str) -> GeneratedImage | ImageJob: ...


class Embedder(Protocol):
    """OpenAI."""

    def embed(self, texts: list[str], model: str) -> Embeddings: ...


# ----- payments -------------------------------------------------------------------------------


class Charger(Protocol):
    """A gateway in the charge chain (Asaas, PagBank, MercadoPago)."""

    # What it charges with (MercadoPago: PIX only), known before any credential is read.
    billing_types: ClassVar[frozenset[BillingType]]

    def open_charge(self, spec: ChargeSpec, *, resumed: bool = False) -> ChargeResult:
        """Create the charge once per ``spec.charge_id`` (``resumed``: an earlier attempt may
        have created it: look it up first). A ProviderUnavailableError carries
        ``details["charge_lookup"]``: ``not_sent`` / ``not_found`` (surely no charge here: the
        chain may fail over) or ``failed`` (the outcome is unknown: no failover)."""
        ...


def charge_after_unavailable(exc: ProviderUnavailableError, find: Callable[[], ChargeT | None]) -> ChargeT:
    """After a create that answered ``exc`` though it may have been sent: the charge ``find``
    sees at the gateway, or ``exc`` again with ``details["charge_lookup"]`` set as
    :meth:`Charger.open_charge` promises (``not_found``, or ``failed`` when the lookup failed)."""
    try:
        found = find()
    except HubError:
        exc.details["charge_lookup"] = "failed"
        raise exc from None
    if found is None:
        exc.details["charge_lookup"] = "not_found"
        raise exc
    return found


class CustomerRegistry(Protocol):
    """Asaas: payers looked up by CPF/CNPJ before one is created."""

    def ensure_customer(self, customer: Customer) -> ProviderCustomer: ...


class Refunder(Protocol):
    """Asaas, MercadoPago."""

    def refund(
        self,
        provider_charge_id: str,
        amount_cents: int | None = None,
        /,
        *,
        description: str | None = None,
        idempotency_key: str,
    ) -> RefundResult: ...


class PaymentLookup(Protocol):
    """MercadoPago: its notifications carry only the payment id."""

    def get_payment(self, payment_id: str) -> ChargeResult: ...


class OrderLookup(Protocol):
    """PagBank: an order as its notification would carry it, for lost notifications."""

    def get_order_payload(self, order_id: str) -> dict[str, Any] | None: ...


class SubscriptionBiller(Protocol):
    """Asaas (clients' subscriptions), Stripe (the platform product)."""

    def start_subscription(self, spec: SubscriptionSpec) -> SubscriptionCreated: ...

    def end_subscription(self, subscription_id: str) -> bool: ...


class PaymentLinks(Protocol):
    """Asaas."""

    def create_payment_link(
        self,
        *,
        name: str,
        billing_type: BillingType,
        amount_cents: int | None,
        description: str | None,
        due_date_limit_days: int,
        external_reference: str | None,
    ) -> PaymentLinkResult: ...


class PixQrCodes(Protocol):
    """Asaas: the copy-and-paste and QR image of a charge it holds."""

    def pix_qr_code(self, provider_charge_id: str) -> PixQrCode: ...


class PixTransfers(Protocol):
    """Asaas: money out to a PIX key."""

    def create_transfer(
        self, amount_cents: int, *, pix_key: str, pix_key_type: PixKeyType, description: str | None
    ) -> TransferResult: ...


class PaymentLedger(Protocol):
    """Asaas: the account's statement (charges received, fees, transfers out)."""

    def list_financial_transactions(self, start: date, end: date) -> Iterator[FinancialTransaction]: ...


class BankStatements(Protocol):
    """Pluggy (Open Finance): the payout bank account's transactions."""

    def list_transactions(self, start: date, end: date) -> Iterable[BankTransaction]: ...


# ----- fiscal ---------------------------------------------------------------------------------


class NfseIssuer(Protocol):
    """Nuvem Fiscal, Focus NFe: one interface, our charge id as every note's reference.

    ``note_id`` is the id in the provider's own ``NfseStatus.provider_id``."""

    def emit(self, req: NfseRequest) -> NfseStatus:
        """Once per ``req.reference``: an existing note is answered, not emitted again."""
        ...

    def find(self, reference: str, prestador_cnpj: str) -> NfseStatus | None: ...

    def status(self, note_id: str) -> NfseStatus: ...

    def cancel(self, note_id: str, justification: str) -> NfseCancellation: ...

    def download_pdf(self, note_id: str) -> bytes: ...

    def download_xml(self, note_id: str) -> bytes: ...


class WebSearch(Protocol):
    """One page of a search engine's results: SerpAPI, Serper.dev (Google web, Maps and News),
    Brave Search (its own index: web and news). ``kinds`` says which of the three engines the
    adapter answers, known before any credential is read (``adapter_class(WebSearch, p).kinds``);
    asked for another, ``search`` raises InvalidRequestError code ``engine_unsupported``."""

    kinds: ClassVar[frozenset[Engine]]

    def search(
        self,
        engine: Engine,
        q: str,
        *,
        location: str | None = None,
        hl: str | None = None,
        gl: str | None = None,
        ll: str | None = None,
        num: int = 10,
        start: int = 0,
        no_cache: bool = False,
    ) -> SearchResults: ...


# ----- social networks --------------------------------------------------------------------


class SocialPublisher(Protocol):
    """LinkedIn, Instagram, Facebook Pages, YouTube: one post in the steps SocialPublishWorkflow
    drives (hub.social.publish). Each step is one Lambda invocation; nothing here sleeps."""

    @classmethod
    def check_post(cls, content: SocialContent) -> None:
        """Refuse (InvalidRequestError naming the field) what this network cannot publish —
        text length, media count/types, formats — before anything is stored or sent."""
        ...

    def prepare_post(self, post: SocialPost) -> PublishStep:
        """Upload media / create containers; nothing visible yet. RateLimitedError when the
        network's publishing quota is spent (the workflow delays to ``retry_after``)."""
        ...

    def poll_post(self, post: SocialPost, job: dict[str, Any]) -> PublishStep:
        """Media still processing? ``ready`` or ``pending`` again (the workflow bounds polling)."""
        ...

    def publish_post(self, post: SocialPost, job: dict[str, Any]) -> PublishedPost:
        """The one irreversible call, sent once (``attempts=1``, ``effect=True``): a lost answer
        is OutcomeUnknownError and the workflow calls :meth:`find_post`, never this again."""
        ...

    def find_post(self, post: SocialPost, job: dict[str, Any], *, since: datetime) -> PublishedPost | None:
        """After an unknown outcome: the account's post made by this publication since
        ``since`` (matched on what ``job`` and the content identify), or None."""
        ...


class SocialInsights(Protocol):
    """The same networks' metrics, read by SocialInsightsSync (hub.social.insights)."""

    def list_accounts(self) -> list[SocialAccount]:
        """The accounts this integration can publish to and read."""
        ...

    def account_metrics(self, account: str, start: date, end: date) -> list[DayMetrics]:
        """Daily account metrics for ``start``..``end`` inclusive (days the network has)."""
        ...

    def post_metrics(self, account: str, post_ids: list[str]) -> list[PostMetrics]:
        """Lifetime metrics of these posts (the hub's own publications)."""
        ...


class WebhookRegistrar(Protocol):
    """Points the provider's webhook for the org at the hub's route, through the provider's API
    (IntegrationConnect / IntegrationRotate). ``secret`` is a token the hub generated, for
    providers that let the subscriber choose it; ``existing_id`` (the id a previous
    registration answered) updates that webhook instead of creating a second one. The answer's
    ``secret_fields`` go into the org's secret as they are; empty: the stored values stay valid
    (Stripe on update, Meta: signed with the app secret). docs/integrations.md lists providers."""

    def register_webhook(self, url: str, secret: str, *, existing_id: str | None = None) -> WebhookRegistration: ...


class CredentialRotator(Protocol):
    """Providers whose API issues credentials (IntegrationRotate without new credentials):
    ``issue_credentials`` creates a new key and answers the secret fields to store;
    ``revoke_credentials`` retires the previous key once the new one is stored and tested."""

    def issue_credentials(self) -> dict[str, str]: ...

    def revoke_credentials(self, previous: dict[str, Any]) -> None: ...


class AnalyticsSink(Protocol):
    """GA4 (Measurement Protocol), PostHog, Mixpanel: product analytics an org forwards hub events
    to (AnalyticsForward, hub.analytics). ``max_batch_events`` / ``max_batch_bytes`` are the
    vendor's limits on one request; ``send_events`` sends at most that many in one request
    (synchronously: no background thread in a Lambda) and answers one outcome per event, in
    order. A failure of the whole request worth retrying (5xx, 429, unreachable) raises the
    hub's error (ProviderUnavailableError, RateLimitedError): nothing of it counts as sent."""

    max_batch_events: ClassVar[int]
    max_batch_bytes: ClassVar[int]

    def send_events(self, events: list[AnalyticsEvent]) -> list[SinkOutcome]: ...


class Calendar(Protocol):
    """Google Calendar: events with Meet links, free/busy, incremental sync and push channels
    (hub.calendar; the agreed calls and their errors: docs/calendar.md "Adapter calls")."""

    def list_calendars(self) -> list[dict[str, Any]]: ...

    def insert_event(
        self, calendar_id: str, event: dict[str, Any], *, event_id: str, request_id: str
    ) -> dict[str, Any]: ...

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]: ...

    def patch_event(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]: ...

    def cancel_event(self, calendar_id: str, event_id: str) -> None: ...

    def free_busy(
        self, calendar_ids: list[str], time_min: datetime, time_max: datetime, time_zone: str
    ) -> dict[str, list[tuple[datetime, datetime]]]: ...

    def list_events(
        self, calendar_id: str, *, sync_token: str | None = None, page_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None, str | None]: ...

    def watch_events(
        self, calendar_id: str, *, channel_id: str, token: str, address: str, ttl_seconds: int
    ) -> dict[str, Any]: ...

    def stop_channel(self, channel_id: str, resource_id: str) -> None: ...


class CnpjLookup(Protocol):
    """Nuvem Fiscal: the Receita Federal's registry."""

    def cnpj_lookup(self, cnpj: str) -> dict[str, Any]: ...


# ----- the lookup -----------------------------------------------------------------------------

PORTS: dict[str, type[Any]] = {
    port.__name__: port
    for port in (
        WhatsAppSender,
        SmsSender,
        EmailSender,
        TextGenerator,
        ImageGenerator,
        Embedder,
        Charger,
        CustomerRegistry,
        Refunder,
        PaymentLookup,
        OrderLookup,
        SubscriptionBiller,
        PaymentLinks,
        PixQrCodes,
        PixTransfers,
        PaymentLedger,
        BankStatements,
        NfseIssuer,
        CnpjLookup,
        WebSearch,
        WebhookRegistrar,
        CredentialRotator,
        SocialPublisher,
        SocialInsights,
        AnalyticsSink,
        Calendar,
    )
}
assert set(PORTS) <= set(get_args(Capability)), "every port is a Capability name"


# A port as a value. Typed as a callable rather than ``type[...]``: mypy refuses a Protocol
# where ``type[T]`` is expected (it cannot be instantiated), yet accepts it as a callable.
Port = Callable[..., PortT]


def _name(port: Port[Any]) -> str:
    name: str = getattr(port, "__name__", "")
    if name not in PORTS:
        raise TypeError(f"{port!r} is not a port of hub.providers.ports")
    return name


@cache
def missing_members(port: Any, cls: type[Any]) -> frozenset[str]:
    """The port's members ``cls`` lacks or takes differently (empty: it implements the port).

    Checked from the registry at test time (tests/unit/providers/test_ports.py), so a new
    adapter needs no hand-kept list: each port parameter must be accepted under its name and
    kind, and the adapter may add parameters only with defaults."""
    return frozenset(
        name
        for name in get_protocol_members(port)
        if not hasattr(cls, name) or not _accepts(getattr(port, name, None), getattr(cls, name))
    )


def _accepts(wanted: Any, given: Any) -> bool:
    if not callable(wanted):
        return True  # a declared attribute (e.g. ``Charger.billing_types``): presence is enough
    try:
        want = [p for p in inspect.signature(wanted).parameters.values() if p.name != "self"]
        have = [p for p in inspect.signature(given).parameters.values() if p.name != "self"]
    except (TypeError, ValueError):
        return True
    positional = [p for p in have if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in have}
    var_keyword = any(p.kind is p.VAR_KEYWORD for p in have)
    matched: set[str] = set()
    for index, param in enumerate(want):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.kind is param.POSITIONAL_ONLY:  # matched by position, whatever its name
            own = positional[index] if index < len(positional) else None
        else:
            own = by_name.get(param.name)
            if own is None and var_keyword:
                continue
            if own is not None and (own.kind is own.POSITIONAL_ONLY) != (param.kind is param.POSITIONAL_ONLY):
                return False
            if own is not None and param.kind is not param.KEYWORD_ONLY and own.kind is own.KEYWORD_ONLY:
                return False
        if own is None or (param.default is not param.empty and own.default is own.empty):
            return False
        matched.add(own.name)
    # Whatever else the adapter takes must have a default: callers of the port never pass it.
    return all(
        p.name in matched or p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in have
    )


def supports(provider: str, port: Port[Any]) -> bool:
    """Does ``provider`` (a key or alias) declare ``port``?"""
    found = descriptor(provider)
    return found is not None and _name(port) in found.capabilities


def providers_with(port: Port[Any]) -> list[str]:
    """Every provider key declaring ``port``, in registry order."""
    name = _name(port)
    return [d.key for d in all_descriptors().values() if name in d.capabilities]


def for_org(port: Port[PortT], org_id: str, provider: str, *, field: str = "provider", **kwargs: Any) -> PortT:
    """The org's adapter at ``provider`` (a key or alias), typed as ``port``.

    Unknown provider, or one that does not declare the port: InvalidRequestError naming
    ``field`` (where the provider's name came from), before any credential is read."""
    return cast(PortT, _checked_class(port, provider, field).for_org(org_id, **kwargs))


def adapter_class(port: Port[PortT], provider: str, *, field: str = "provider") -> type[PortT]:
    """The adapter class behind ``port`` at ``provider``, checked as :func:`for_org` does, for
    what a port declares at class level (e.g. ``Charger.billing_types``) before credentials."""
    return cast("type[PortT]", _checked_class(port, provider, field))


def _checked_class(port: Port[Any], provider: str, field: str) -> type[ProviderClient]:
    name = _name(port)
    found = descriptor(provider)
    if found is None:
        raise InvalidRequestError(f"{field}: unknown provider {provider!r}", code="unknown_provider")
    if name not in found.capabilities or found.client is None:
        offered = ", ".join(providers_with(port)) or "none"
        raise InvalidRequestError(
            f"{field}: {found.key} is not a {name} (providers that are: {offered})",
            provider=found.key,
            code="capability_unsupported",
        )
    cls = found.client_class()
    missing = missing_members(port, cls)
    if missing:  # a descriptor promising what its client lacks: the hub's bug, not the caller's
        raise ConfigurationError(
            f"{found.key} declares {name} but {cls.__name__} lacks {', '.join(sorted(missing))}", provider=found.key
        )
    return cls


# Typed shorthands for the ports domain code asks for most.


def whatsapp_sender(org_id: str, provider: str) -> WhatsAppSender:
    return for_org(WhatsAppSender, org_id, provider)


def email_sender(org_id: str, provider: str) -> EmailSender:
    return for_org(EmailSender, org_id, provider)


def nfse_issuer(org_id: str, provider: str) -> NfseIssuer:
    return for_org(NfseIssuer, org_id, provider)
