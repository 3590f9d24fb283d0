"""Brasília time (America/Sao_Paulo): the clock of Brazilian business days, due dates and
months. A fixed UTC-3 offset rather than ``zoneinfo``: Brazil dropped daylight saving in 2019,
and Lambda's runtime need not ship the tz database for one zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BRASILIA = timezone(timedelta(hours=-3), "America/Sao_Paulo")


def brasilia_now(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(BRASILIA)


def brasilia_today(now: datetime | None = None) -> date:
    return brasilia_now(now).date()


def month_of(now: datetime | None = None) -> str:
    """The Brasília month (``yyyy-mm``) a moment belongs to."""
    return f"{brasilia_now(now):%Y-%m}"
