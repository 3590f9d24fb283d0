"""``EventBridgeRule`` function events: a rule on the bus that invokes the function.

moto's EventBridge delivers to SQS targets but not to Lambda, so each rule gets a queue of its
own in moto (``<stack>-<function>-<event>-rule``) as its target, and a poller invokes the
function with each event exactly as EventBridge would (the event's JSON, one invocation per
event). A failed invocation leaves the event on the queue: it comes back after the queue's
visibility timeout (or ``retry_delay``), like EventBridge's asynchronous retries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localcloud.runtime import describe_failure
from localcloud.sqs_poller import SqsPoller, SqsSource
from localcloud.template import FunctionSpec, Template

log = logging.getLogger("localcloud.rules")


@dataclass(frozen=True)
class RuleSpec:
    function: FunctionSpec
    event_name: str
    bus_name: str
    pattern: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.function.logical_id}-{self.event_name}"[:64]


def collect_rules(functions: Iterable[FunctionSpec]) -> list[RuleSpec]:
    rules = []
    for fn in functions:
        for ev in fn.events:
            if ev.type != "EventBridgeRule":
                continue
            props = ev.properties
            rules.append(
                RuleSpec(
                    function=fn,
                    event_name=ev.name,
                    bus_name=str(props.get("EventBusName") or "default"),
                    pattern=dict(props.get("Pattern") or {}),
                )
            )
    return rules


def wire_rule(rule: RuleSpec, template: Template, sqs: Any, events: Any) -> SqsSource:
    """The rule's queue, the rule on its bus and the queue as its target; the poller's source."""
    queue_name = f"{template.stack_name}-{rule.name}-rule"[:80]
    url = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=rule.name, EventBusName=rule.bus_name, EventPattern=json.dumps(rule.pattern))
    events.put_targets(Rule=rule.name, EventBusName=rule.bus_name, Targets=[{"Id": "function", "Arn": arn}])
    return SqsSource(
        function=rule.function,
        event_name=rule.event_name,
        queue_arn=arn,
        queue_url=url,
        batch_size=1,
        batching_window=0,
        report_batch_item_failures=False,
    )


class RulePoller(SqsPoller):
    """Invokes the function with the EventBridge event each message carries."""

    def process(self, messages: list[dict[str, Any]]) -> None:
        src = self.source
        for message in messages:
            try:
                event = json.loads(message.get("Body") or "{}")
                self.runtime.invoke(src.function.logical_id, event)
            except Exception as exc:  # noqa: BLE001 - kept on the queue: retried like EventBridge does
                log.error("%s failed on a bus event: %s", src.function.logical_id, describe_failure(exc))
                if self.retry_delay is not None:
                    self.sqs.change_message_visibility(
                        QueueUrl=src.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=self.retry_delay,
                    )
                continue
            self.sqs.delete_message(QueueUrl=src.queue_url, ReceiptHandle=message["ReceiptHandle"])
