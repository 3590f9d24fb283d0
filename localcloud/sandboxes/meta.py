"""Meta: demo secrets only (webhooks are received locally; the WhatsApp Cloud API fake is ``whatsapp_cloud.py``)."""

from __future__ import annotations

from localcloud.demo import DEMO_CLOUD_ORG_ID
from localcloud.sandboxes.base import DemoSecret

DEMO_APP_SECRET = "demo-meta-app-secret"
DEMO_VERIFY_TOKEN = "demo-meta-verify-token"

DEMO_SECRETS = (
    DemoSecret("meta", lambda base_url: {"app_secret": DEMO_APP_SECRET, "verify_token": DEMO_VERIFY_TOKEN}),
    DemoSecret(
        "meta",
        lambda base_url: {"app_secret": DEMO_APP_SECRET, "verify_token": DEMO_VERIFY_TOKEN},
        org_id=DEMO_CLOUD_ORG_ID,
    ),
)
