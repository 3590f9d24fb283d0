"""Amazon SES: email fallback through SESv2 with the function's IAM role.

The API facts this adapter relies on, with their doc links, are in README.md.
"""

from hub.providers.base.descriptor import ProviderDescriptor
from hub.resilience.ratelimit import DAY, MINUTE, LimitRule

DESCRIPTOR = ProviderDescriptor(
    auth="aws_iam",
    capabilities=frozenset({"EmailSender"}),
    # SES counts recipients: a production account starts at 14/s and 50,000/day
    # (GetAccount.SendQuota has the account's own figures: override per deployment).
    limits=(
        LimitRule("recipients_per_minute", 840, MINUTE, "account", applies_to="send"),
        LimitRule("recipients_per_day", 50_000, DAY, "account", applies_to="send"),
    ),
    docs="https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html",
)
