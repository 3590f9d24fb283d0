"""Amazon SES: demo secrets only. moto serves SES locally (on the AWS port); this module only seeds the demo secret."""

from __future__ import annotations

from localcloud.demo import EMAIL_FROM
from localcloud.sandboxes.base import DemoSecret

DEMO_SECRETS = (
    # SES authenticates with the function's IAM role; the secret only configures it.
    DemoSecret("ses", lambda base_url: {"from_address": EMAIL_FROM}),
)
