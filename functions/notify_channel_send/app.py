"""NotifyChannelSend — one channel attempt of NotifyContactChain (a Step Functions task).

Payload: the chain's request plus "provider" (the channel: whatsapp, sms or email) and "execution_arn".
Sends at most once per notification and channel; raises the taxonomy's errors so the chain moves on.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hub import idempotency
from hub.invocation import parse_request
from hub.messaging.notify import ChannelSendRequest, send_on_channel
from hub.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return send_on_channel(parse_request(ChannelSendRequest, event))
