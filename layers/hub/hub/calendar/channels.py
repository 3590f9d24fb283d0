"""Push channels (``events.watch``), one per watched calendar of an org.

* Connect (``integration.connected`` / ``integration.enabled`` of ``google`` on the hub's bus):
  watch every calendar the org writes to (or its settings' ``calendar_ids``) and enqueue a
  baseline sync of each, so the first change already has a sync token to start from.
* Renewal (CalendarChannelsRenew, hourly): a channel that expires within
  ``CALENDAR_RENEW_BEFORE_SECONDS`` gets a successor (a new id and token) before the old one is
  stopped, so no change falls between them. Google channels cannot be extended, only replaced.
  An org whose watch failed (Google down at connect) is marked ``watch_pending`` and watched again
  by the same hourly run until it succeeds.
* Disconnect (``integration.disabled`` / ``integration.needs_reauth``): every channel of the org
  is stopped (``channels.stop``; best effort: a revoked grant cannot stop it, and Google ends it
  at its expiration) and forgotten, so its notifications are refused from then on.

Each channel has its own random ``token`` (Google echoes it in ``X-Goog-Channel-Token``) checked
in constant time by the receiver (:mod:`hub.calendar.webhook`).

Sources: https://developers.google.com/calendar/api/guides/push (watch request, ``token``,
``expiration``, "there is no automatic way to renew", ``channels.stop``),
https://developers.google.com/calendar/api/v3/reference/events/watch.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hub.calendar import store
from hub.calendar.client import calendar_client
from hub.calendar.store import Channel
from hub.config import get_settings
from hub.errors import AuthenticationError, HubError
from hub.observability import logger, metrics

if TYPE_CHECKING:
    from hub.providers.ports import Calendar

WEBHOOK_PROVIDER = "google_calendar"
WRITABLE = frozenset({"owner", "writer"})


def webhook_address(org_id: str) -> str:
    return f"{get_settings().require('public_api_url').rstrip('/')}/webhooks/{WEBHOOK_PROVIDER}/{org_id}"


def watched_calendars(client: Calendar, org_id: str) -> list[str]:
    """The settings' ``calendar_ids``, else every calendar of the list the org can write to."""
    settings, _ = store.get_org_settings(org_id)
    if settings.calendar_ids:
        return list(settings.calendar_ids)
    return [str(c["id"]) for c in client.list_calendars() if c.get("id") and c.get("accessRole") in WRITABLE]


def watch_calendar(client: Calendar, org_id: str, calendar_id: str, *, now: float | None = None) -> Channel:
    now = time.time() if now is None else now
    ttl = get_settings().calendar_channel_ttl_seconds
    channel_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(32)
    answer = client.watch_events(
        calendar_id, channel_id=channel_id, token=token, address=webhook_address(org_id), ttl_seconds=ttl
    )
    expiration_ms = answer.get("expiration")
    # Google answers the expiration it granted (ms since the epoch, a string); it may be less.
    expiration = int(int(expiration_ms) / 1000) if expiration_ms else int(now) + ttl
    channel = Channel(
        org_id=org_id,
        channel_id=str(answer.get("id") or channel_id),
        calendar_id=calendar_id,
        resource_id=str(answer["resourceId"]),
        token_hash=store.token_hash(token),
        expiration=expiration,
        created_at=datetime.fromtimestamp(now, UTC).isoformat(),
    )
    store.put_channel(channel)
    metrics.add_metric(name="CalendarChannelWatched", unit="Count", value=1)
    return channel


@dataclass
class ChannelReport:
    watched: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"watched": self.watched, "stopped": self.stopped, "renewed": self.renewed, "failed": self.failed}


def _failure(report: ChannelReport, org_id: str, what: str, exc: Exception) -> None:
    code = getattr(exc, "code", None) or ""
    report.failed.append({"org_id": org_id, "what": what, "error": type(exc).__name__, "code": code})
    logger.warning("calendar_channel_failed", extra={"org_id": org_id, "what": what, "error": type(exc).__name__})


def watch_org(org_id: str, client: Calendar | None = None, *, now: float | None = None) -> ChannelReport:
    """Watch the org's calendars that have no channel lasting past the renewal horizon."""
    from hub.calendar.sync import enqueue_sync

    now = time.time() if now is None else now
    client = client or calendar_client(org_id)
    horizon = now + get_settings().calendar_renew_before_seconds
    covered = {c.calendar_id for c in store.org_channels(org_id) if c.expiration > horizon}
    report = ChannelReport()
    try:
        calendars = watched_calendars(client, org_id)
    except HubError as exc:
        _failure(report, org_id, "watch", exc)
        calendars = []
    for calendar_id in calendars:
        if calendar_id in covered:
            continue
        try:
            channel = watch_calendar(client, org_id, calendar_id, now=now)
        except HubError as exc:
            _failure(report, org_id, "watch", exc)
            continue
        report.watched.append(channel.channel_id)
        try:
            enqueue_sync(org_id, calendar_id, reason="watch", dedupe=f"watch:{channel.channel_id}")
        except Exception as exc:  # noqa: BLE001 - the channel works; its first notification syncs
            _failure(report, org_id, "baseline", exc)
    if any(f["error"] == "AuthenticationError" for f in report.failed):
        store.clear_watch_pending(org_id)  # no grant: retrying cannot help; reconnecting watches again
    elif report.failed:
        store.mark_watch_pending(org_id, now=now)  # the hourly run tries again
    else:
        store.clear_watch_pending(org_id)
    return report


def stop_org(org_id: str, client: Calendar | None = None) -> ChannelReport:
    """Stop and forget every channel of the org. The records go whatever Google answers: a
    notification of a forgotten channel is refused by the receiver."""
    report = ChannelReport()
    store.clear_watch_pending(org_id)  # a disconnected org is not watched again by the schedule
    channels = store.org_channels(org_id)
    if not channels:
        return report
    try:
        client = client or calendar_client(org_id)
    except HubError as exc:  # no tokens any more: the channels end at their expiration
        _failure(report, org_id, "stop", exc)
        client = None
    for channel in channels:
        if client is not None:
            try:
                client.stop_channel(channel.channel_id, channel.resource_id)
            except HubError as exc:
                _failure(report, org_id, "stop", exc)
        store.delete_channel(org_id, channel.channel_id)
        report.stopped.append(channel.channel_id)
    return report


def renew_due(*, now: float | None = None, client_for: Callable[[str], Calendar] = calendar_client) -> ChannelReport:
    """Replace every channel expiring within the horizon: the successor first, then the old one
    stopped, then one sync of the calendar (anything a lapsed channel missed). One org's failure
    (its grant revoked) does not stop the others."""
    from hub.calendar.sync import enqueue_sync

    now = time.time() if now is None else now
    deadline = int(now) + get_settings().calendar_renew_before_seconds
    report = ChannelReport()
    clients: dict[str, Calendar | None] = {}
    for old in store.channels_expiring_before(deadline):
        if old.org_id not in clients:
            try:
                clients[old.org_id] = client_for(old.org_id)
            except HubError as exc:
                clients[old.org_id] = None
                _failure(report, old.org_id, "renew", exc)
        client = clients[old.org_id]
        if client is None:
            continue
        try:
            successor = watch_calendar(client, old.org_id, old.calendar_id, now=now)
        except AuthenticationError as exc:
            clients[old.org_id] = None  # the grant is gone: the others of this org would fail too
            _failure(report, old.org_id, "renew", exc)
            continue
        except HubError as exc:
            _failure(report, old.org_id, "renew", exc)
            continue
        try:
            client.stop_channel(old.channel_id, old.resource_id)
        except HubError as exc:
            _failure(report, old.org_id, "stop", exc)  # it ends at its expiration anyway
        store.delete_channel(old.org_id, old.channel_id)
        report.renewed.append(successor.channel_id)
        try:
            # A channel that lapsed (the schedule was down) missed notifications: catch up.
            enqueue_sync(old.org_id, old.calendar_id, reason="renew", dedupe=f"renew:{successor.channel_id}")
        except Exception:  # noqa: BLE001 - the next notification syncs as well; logged
            logger.exception("calendar_renew_sync_not_enqueued", extra={"org_id": old.org_id})
    if report.renewed:
        metrics.add_metric(name="CalendarChannelRenewed", unit="Count", value=len(report.renewed))
    for org_id in store.orgs_watch_pending():
        if clients.get(org_id, True) is None:
            continue  # its grant already failed in this run
        try:
            retried = watch_org(org_id, client_for(org_id), now=now)
        except HubError as exc:
            _failure(report, org_id, "watch", exc)
            continue
        report.watched.extend(retried.watched)
        report.failed.extend(retried.failed)
    return report


# The bus events the channels follow (EventBridge rules on the hub's bus, template.yaml).
WATCH_ON = frozenset({"integration.connected", "integration.enabled"})
STOP_ON = frozenset({"integration.disabled", "integration.needs_reauth"})


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """CalendarChannelsRenew: the hourly schedule renews; integration events of ``google`` on the
    bus watch or stop the org's channels."""
    detail_type = str(event.get("detail-type", ""))
    detail = event.get("detail") or {}
    if detail_type in WATCH_ON | STOP_ON:
        org_id = str(detail.get("org_id", ""))
        if detail.get("provider") != "google" or not org_id:
            return {"ignored": detail_type}
        report = watch_org(org_id) if detail_type in WATCH_ON else stop_org(org_id)
        return report.as_dict()
    return renew_due().as_dict()
