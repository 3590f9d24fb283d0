"""SQS event source mappings: long-poll moto SQS and invoke functions with real SQS events."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from localcloud.runtime import FunctionRuntime, describe_failure
from localcloud.template import REGION, FunctionSpec, Template, to_env_string

log = logging.getLogger("localcloud.sqs")

WAIT_SECONDS = 1


@dataclass(frozen=True)
class SqsSource:
    function: FunctionSpec
    event_name: str
    queue_arn: str
    queue_url: str
    batch_size: int
    batching_window: float
    report_batch_item_failures: bool


def collect_sources(template: Template, functions: Iterable[FunctionSpec]) -> list[SqsSource]:
    sources = []
    for fn in functions:
        for ev in fn.events:
            if ev.type != "SQS":
                continue
            props = ev.properties
            if to_env_string(props.get("Enabled", True)) == "false":
                continue
            arn = str(props["Queue"])
            queue_name = arn.rsplit(":", 1)[-1]
            sources.append(
                SqsSource(
                    function=fn,
                    event_name=ev.name,
                    queue_arn=arn,
                    queue_url=template.queue_url(queue_name),
                    batch_size=int(props.get("BatchSize", 10)),
                    batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                )
            )
    return sources


def lambda_message_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (attrs or {}).items():
        item: dict[str, Any] = {}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            item["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
        item["stringListValues"] = value.get("StringListValues", [])
        item["binaryListValues"] = value.get("BinaryListValues", [])
        item["dataType"] = value.get("DataType", "String")
        out[name] = item
    return out


def to_record(message: dict[str, Any], source: SqsSource) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": lambda_message_attributes(message.get("MessageAttributes") or {}),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": source.queue_arn,
        "awsRegion": REGION,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_ids(result: Any, message_ids: set[str]) -> set[str] | None:
    """Message ids reported as failed; None means 'treat the whole batch as failed'."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    out: set[str] = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in message_ids:
            return None  # invalid response: Lambda retries the whole batch
        out.add(ident)
    return out


class SqsPoller:
    """One thread per SQS event source."""

    def __init__(
        self,
        source: SqsSource,
        runtime: FunctionRuntime,
        client_factory: Callable[[], Any],
        retry_delay: int | None = None,
    ) -> None:
        self.source = source
        self.runtime = runtime
        self.sqs = client_factory()
        self.retry_delay = retry_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"sqs-{source.function.logical_id}-{source.event_name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 10) -> None:
        self._thread.join(timeout)

    def _receive(self, max_messages: int) -> list[dict[str, Any]]:
        resp = self.sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            WaitTimeSeconds=WAIT_SECONDS,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(resp.get("Messages") or [])

    def _run(self) -> None:
        src = self.source
        while not self._stop.is_set():
            try:
                batch = self._receive(src.batch_size)
                if batch and src.batching_window > 0:
                    deadline = time.monotonic() + src.batching_window
                    while len(batch) < src.batch_size and time.monotonic() < deadline and not self._stop.is_set():
                        batch += self._receive(src.batch_size - len(batch))
                if batch and not self._stop.is_set():
                    self.process(batch)
            except Exception as exc:  # noqa: BLE001 - keep polling, like the real mapping
                if self._stop.is_set():
                    break
                log.warning("SQS poller %s: %s", src.function.logical_id, exc)
                self._stop.wait(1)

    def process(self, messages: list[dict[str, Any]]) -> None:
        src = self.source
        event = {"Records": [to_record(m, src) for m in messages]}
        ids = {m["MessageId"] for m in messages}
        failed: set[str] | None
        try:
            result = self.runtime.invoke(src.function.logical_id, event)
        except Exception as exc:  # noqa: BLE001 - the function's error or the runtime's: batch failed
            fn, count = src.function.logical_id, len(messages)
            log.error("%s failed on a batch of %d SQS message(s): %s", fn, count, describe_failure(exc))
            failed = ids
        else:
            failed = failed_ids(result, ids) if src.report_batch_item_failures else set()
            if failed is None:
                log.warning(
                    "%s returned an invalid batchItemFailures response; whole batch retried", src.function.logical_id
                )
                failed = ids
        done = [m for m in messages if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            chunk = done[i : i + 10]
            self.sqs.delete_message_batch(
                QueueUrl=src.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
            )
        if failed:
            log.info("%s: %d of %d SQS message(s) failed", src.function.logical_id, len(failed), len(messages))
            # Without --retry-delay the consumer's own ChangeMessageVisibility (hub.batch: a
            # backoff by receive count, a rate limit's retry_after) is what moto honours, as on
            # AWS. With it every failed message is back after retry_delay (development).
            if self.retry_delay is not None:
                retry = [m for m in messages if m["MessageId"] in failed]
                for i in range(0, len(retry), 10):
                    chunk = retry[i : i + 10]
                    self.sqs.change_message_visibility_batch(
                        QueueUrl=src.queue_url,
                        Entries=[
                            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_delay}
                            for n, m in enumerate(chunk)
                        ],
                    )


class SqsPollers:
    def __init__(self, pollers: list[SqsPoller]) -> None:
        self.pollers = pollers

    def start(self) -> None:
        for p in self.pollers:
            p.start()

    def signal_stop(self) -> None:
        for p in self.pollers:
            p.signal_stop()

    def join(self) -> None:
        for p in self.pollers:
            p.join()

    def stop(self) -> None:
        self.signal_stop()
        self.join()
