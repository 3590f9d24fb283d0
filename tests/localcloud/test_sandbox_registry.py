"""Names line up: a provider's key is its package, its sandbox module and its secret suffix."""

from __future__ import annotations

from hub.providers import all_descriptors
from localcloud import demo
from localcloud.sandboxes import PLATFORM_SERVICES, all_sandboxes, sandbox_modules

ORG_SETTINGS = {"custom", "messaging", "payments"}


def test_every_sandbox_module_serves_its_own_name() -> None:
    for module in sandbox_modules():
        key = module.__name__.rsplit(".", 1)[-1]
        if hasattr(module, "SANDBOX"):
            assert module.SANDBOX.provider == key, module.__name__
        assert all(secret.provider == key for secret in getattr(module, "DEMO_SECRETS", ())), module.__name__


def test_every_registered_sandbox_is_served() -> None:
    served = {sandbox.provider for sandbox in all_sandboxes()}
    assert {"evolution", "asaas", "nuvemfiscal", "whatsapp_cloud"} <= served
    assert served <= set(all_descriptors()) | PLATFORM_SERVICES


def test_every_demo_secret_names_a_provider_or_an_org_setting() -> None:
    providers = set(all_descriptors())
    for secret in demo.demo_secrets():
        assert secret.provider in providers | ORG_SETTINGS | PLATFORM_SERVICES, secret.provider
    for secret in demo.demo_secrets():
        if secret.provider in PLATFORM_SERVICES:
            assert secret.org_id == "_apps", secret.provider  # the hub's own secret, no org's


def test_every_provider_has_a_demo_secret_for_make_dev() -> None:
    seeded = {secret.provider for secret in demo.demo_secrets()}
    assert set(all_descriptors()) <= seeded
