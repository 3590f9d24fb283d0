"""``Schedule`` / ``ScheduleV2`` events: rate(), cron() and at() with an optional speed-up."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from localcloud.runtime import FunctionRuntime, describe_failure
from localcloud.template import ACCOUNT_ID, REGION, STACK_NAME, FunctionSpec, to_env_string

log = logging.getLogger("localcloud.schedules")

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


class ScheduleError(ValueError):
    pass


def parse_rate(expression: str) -> float:
    m = re.fullmatch(r"\s*rate\(\s*(\d+)\s+([a-zA-Z]+)\s*\)\s*", expression)
    if not m or m.group(2).lower() not in _UNITS:
        raise ScheduleError(f"invalid rate expression {expression!r}")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def _shift_dow_token(token: str) -> str:
    """AWS day-of-week numbers are 1-7 (SUN=1); croniter's are 0-6 (SUN=0)."""
    if token in ("*", "?"):
        return "*"
    if token == "L":
        return "6"  # last day of the week = Saturday
    if token.endswith("L"):
        log.warning("day-of-week %r ('last <day> of month') approximated as every such day", token)
        token = token[:-1]
    head, sep, tail = token.partition("/")
    if "#" in head:
        day, _, nth = head.partition("#")
        head = f"{_shift_number(day)}#{nth}"
    else:
        head = "-".join(_shift_number(p) for p in head.split("-"))
    return head + sep + tail


def _shift_number(part: str) -> str:
    return str(int(part) - 1) if part.isdigit() else part


def aws_cron_to_croniter(expression: str) -> tuple[str, str]:
    """``cron(min hour dom month dow year)`` -> (5-field croniter expression, year field)."""
    m = re.fullmatch(r"\s*cron\((.*)\)\s*", expression)
    if not m:
        raise ScheduleError(f"invalid cron expression {expression!r}")
    fields = m.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(f"AWS cron needs 6 fields: {expression!r}")
    minute, hour, dom, month, dow, year = fields
    if "W" in dom:
        log.warning("day-of-month %r: 'W' (nearest weekday) approximated as the day itself", dom)
        dom = dom.replace("W", "")
    dom = "*" if dom == "?" else dom
    dow = ",".join(_shift_dow_token(t) for t in dow.split(","))
    return f"{minute} {hour} {dom} {month} {dow}", year


def _year_matches(year_field: str, year: int) -> bool:
    if year_field in ("*", "?"):
        return True
    for part in year_field.split(","):
        base, _, step = part.partition("/")
        lo, _, hi = base.partition("-")
        start = int(lo) if lo != "*" else 1970
        end = int(hi) if hi else (9999 if step else start)
        if start <= year <= end and (year - start) % int(step or 1) == 0:
            return True
    return False


@dataclass(frozen=True)
class ScheduleSpec:
    function: FunctionSpec
    event_name: str
    expression: str
    input: str | None
    v2: bool
    timezone: str = "UTC"

    @property
    def resource_arn(self) -> str:
        name = f"{STACK_NAME}-{self.function.logical_id}{self.event_name}"
        if self.v2:
            return f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{name}"
        return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{name}"


def collect_schedules(functions: Iterable[FunctionSpec]) -> list[ScheduleSpec]:
    specs = []
    for fn in functions:
        for ev in fn.events:
            if ev.type not in ("Schedule", "ScheduleV2"):
                continue
            p = ev.properties
            v2 = ev.type == "ScheduleV2"
            expression = str(p.get("ScheduleExpression" if v2 else "Schedule", ""))
            enabled = to_env_string(p.get("Enabled", True)) != "false" and str(p.get("State", "ENABLED")) != "DISABLED"
            if not enabled:
                log.info("schedule %s.%s is disabled", fn.logical_id, ev.name)
                continue
            raw_input = p.get("Input")
            if raw_input is not None and not isinstance(raw_input, str):
                raw_input = json.dumps(raw_input)
            specs.append(
                ScheduleSpec(
                    function=fn,
                    event_name=ev.name,
                    expression=expression,
                    input=raw_input,
                    v2=v2,
                    timezone=str(p.get("ScheduleExpressionTimezone", "UTC")),
                )
            )
    return specs


def scheduled_event(spec: ScheduleSpec, when: datetime) -> Any:
    """What the function receives.

    Like AWS: a target ``Input`` replaces the whole event; without it the function gets
    EventBridge's "Scheduled Event".
    """
    if spec.input is not None:
        try:
            return json.loads(spec.input)
        except ValueError:
            return spec.input
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler" if spec.v2 else "aws.events",
        "account": ACCOUNT_ID,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [spec.resource_arn],
        "detail": {},
    }


class Scheduler:
    """Fires schedules on a virtual clock running ``speed`` times faster than real time."""

    def __init__(self, runtime: FunctionRuntime, specs: list[ScheduleSpec], speed: float = 1.0) -> None:
        if speed <= 0:
            raise ScheduleError("schedule speed must be > 0")
        self.runtime = runtime
        self.specs = specs
        self.speed = speed
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._real0 = time.monotonic()
        self._virtual0 = datetime.now(UTC)
        for spec in specs:
            self._validate(spec)

    @staticmethod
    def _validate(spec: ScheduleSpec) -> None:
        expr = spec.expression.strip()
        if expr.startswith("rate("):
            parse_rate(expr)
        elif expr.startswith("cron("):
            cron, _ = aws_cron_to_croniter(expr)
            if not croniter.is_valid(cron):
                raise ScheduleError(f"{spec.function.logical_id}.{spec.event_name}: unsupported cron {expr!r}")
        elif not expr.startswith("at("):
            raise ScheduleError(f"{spec.function.logical_id}.{spec.event_name}: unsupported schedule {expr!r}")

    def virtual_now(self) -> datetime:
        return self._virtual0 + timedelta(seconds=(time.monotonic() - self._real0) * self.speed)

    def start(self) -> None:
        self._real0 = time.monotonic()
        self._virtual0 = datetime.now(UTC)
        for spec in self.specs:
            t = threading.Thread(
                target=self._run, args=(spec,), name=f"schedule-{spec.function.logical_id}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def signal_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        self._threads.clear()

    def _next_fire(self, spec: ScheduleSpec, after: datetime) -> datetime | None:
        expr = spec.expression.strip()
        if expr.startswith("rate("):
            return after + timedelta(seconds=parse_rate(expr))
        if expr.startswith("at("):
            tz = ZoneInfo(spec.timezone)
            at = datetime.fromisoformat(expr[3:-1].strip()).replace(tzinfo=tz)
            return at if at > after else None
        cron, year_field = aws_cron_to_croniter(expr)
        tz = ZoneInfo(spec.timezone)
        it = croniter(cron, after.astimezone(tz))
        for _ in range(10000):
            candidate: datetime = it.get_next(datetime)
            if _year_matches(year_field, candidate.year):
                return candidate.astimezone(UTC)
        return None

    def _run(self, spec: ScheduleSpec) -> None:
        last = self.virtual_now()
        while not self._stop.is_set():
            nxt = self._next_fire(spec, last)
            if nxt is None:
                return
            wait = (nxt - self.virtual_now()).total_seconds() / self.speed
            if wait > 0 and self._stop.wait(wait):
                return
            last = nxt
            try:
                self.runtime.invoke(spec.function.logical_id, scheduled_event(spec, nxt))
            except Exception as exc:  # noqa: BLE001 - the function's error or the runtime's: logged
                log.error("scheduled run of %s failed: %s", spec.function.logical_id, describe_failure(exc))
