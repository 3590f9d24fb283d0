"""hub.providers.ports: domain code asks for a capability of an org's provider, never a class."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hub.errors import ConfigurationError, InvalidRequestError
from hub.providers import all_descriptors, descriptor, ports
from hub.providers.evolution.client import EvolutionClient
from hub.providers.meta.whatsapp_cloud import WhatsAppCloudClient
from hub.providers.pagbank.client import PagBankClient
from hub.providers.ses.client import SesClient
from tests.helpers import FakeSecrets

# ----- the registry and the ports agree ---------------------------------------------------------


@pytest.mark.parametrize("key", sorted(all_descriptors()))
def test_every_declared_capability_is_a_port_its_client_implements(key: str) -> None:
    # Given a provider's descriptor / Then each capability it declares names a port, and its
    # client has every member of that port (a promise the adapter keeps)
    found = all_descriptors()[key]
    for capability in found.capabilities:
        if capability not in ports.PORTS:
            continue  # declared for a port still to come
        assert found.client is not None, f"{key} declares {capability} without a client"
        cls = found.client_class()
        assert ports.missing_members(ports.PORTS[capability], cls) == frozenset(), f"{key}: {capability}"


def test_every_port_has_at_least_one_provider() -> None:
    unserved = [name for name, port in ports.PORTS.items() if not ports.providers_with(port)]
    assert unserved == []


def test_providers_are_found_by_capability_not_by_a_hand_list() -> None:
    assert ports.providers_with(ports.WhatsAppSender) == ["evolution", "whatsapp_cloud"]
    assert sorted(ports.providers_with(ports.EmailSender)) == ["resend", "ses"]
    assert sorted(ports.providers_with(ports.TextGenerator)) == ["anthropic", "gemini", "openai"]
    assert sorted(ports.providers_with(ports.Refunder)) == ["asaas", "mercadopago"]
    assert sorted(ports.providers_with(ports.AnalyticsSink)) == ["ga4", "mixpanel", "posthog"]
    assert ports.supports("pagseguro", ports.Charger)  # an alias is the provider it names
    assert not ports.supports("pagbank", ports.Refunder)
    assert not ports.supports("manual", ports.Charger)


# ----- the lookup ----------------------------------------------------------------------------------


def test_the_orgs_adapter_comes_typed_as_the_port_with_its_credentials(secrets: FakeSecrets) -> None:
    # Given the org's Evolution and Cloud API secrets
    secrets.stored["hub/acme/evolution"] = {"base_url": "https://evo.example.com", "api_key": "k", "instance": "i"}
    secrets.stored["hub/acme/whatsapp_cloud"] = {"access_token": "t", "phone_number_id": "123"}

    # When the org's WhatsApp sender is asked for at each provider
    evolution = ports.whatsapp_sender("acme", "evolution")
    cloud = ports.for_org(ports.WhatsAppSender, "acme", "whatsapp_cloud")

    # Then each is that provider's adapter for the org, its quirk declared behind the port
    assert type(evolution) is EvolutionClient and type(cloud) is WhatsAppCloudClient
    assert evolution.org_id == cloud.org_id == "acme"
    assert (evolution.enforces_service_window, cloud.enforces_service_window) == (False, True)
    assert secrets.asked == ["hub/acme/evolution", "hub/acme/whatsapp_cloud"]


def test_an_alias_resolves_to_the_provider_it_names(secrets: FakeSecrets) -> None:
    secrets.stored["hub/acme/pagbank"] = {"token": "t"}
    charger = ports.for_org(ports.Charger, "acme", "pagseguro")
    assert type(charger) is PagBankClient


def test_an_unknown_provider_is_refused_naming_the_field_before_any_secret_is_read(secrets: FakeSecrets) -> None:
    with pytest.raises(InvalidRequestError) as info:
        ports.for_org(ports.EmailSender, "acme", "mailchimp", field="provider")
    assert info.value.code == "unknown_provider"
    assert "provider" in info.value.message and "mailchimp" in info.value.message
    assert secrets.asked == []


def test_a_provider_without_the_capability_is_refused_naming_who_has_it(secrets: FakeSecrets) -> None:
    # Given Twilio, which sends SMS but no email
    with pytest.raises(InvalidRequestError) as info:
        ports.for_org(ports.EmailSender, "acme", "twilio", field="providers")
    # Then the caller learns why and who could, and no secret was read
    assert info.value.code == "capability_unsupported"
    assert info.value.provider == "twilio"
    assert "providers" in info.value.message and "resend" in info.value.message and "ses" in info.value.message
    assert secrets.asked == []


def test_a_webhook_only_provider_has_no_port(secrets: FakeSecrets) -> None:
    with pytest.raises(InvalidRequestError) as info:
        ports.for_org(ports.WhatsAppSender, "acme", "meta")
    assert info.value.code == "capability_unsupported"


def test_a_descriptor_promising_what_its_client_lacks_is_the_hubs_configuration_error(
    monkeypatch: pytest.MonkeyPatch, secrets: FakeSecrets
) -> None:
    # Given SES wrongly declared as an SMS sender
    ses = descriptor("ses")
    assert ses is not None
    lying = replace(ses, capabilities=ses.capabilities | {"SmsSender"})
    monkeypatch.setattr(ports, "descriptor", lambda key: lying if key == "ses" else descriptor(key))
    # When asked for it / Then a ConfigurationError names the missing call, before any secret
    with pytest.raises(ConfigurationError) as info:
        ports.for_org(ports.SmsSender, "acme", "ses")
    assert "send_sms" in info.value.message and SesClient.__name__ in info.value.message
    assert secrets.asked == []


def test_class_level_declarations_are_read_without_credentials(secrets: FakeSecrets) -> None:
    assert ports.adapter_class(ports.Charger, "mercadopago").billing_types == frozenset({"PIX"})
    assert "BOLETO" in ports.adapter_class(ports.Charger, "asaas").billing_types
    # Which engines a search adapter answers: Brave has its own index but no place search by text.
    assert ports.adapter_class(ports.WebSearch, "brave").kinds == frozenset({"google", "google_news"})
    assert ports.adapter_class(ports.WebSearch, "serper").kinds == {"google", "google_maps", "google_news"}
    assert ports.adapter_class(ports.WebSearch, "serpapi").kinds == {"google", "google_maps", "google_news"}
    assert secrets.asked == []


def test_only_ports_can_be_asked_for() -> None:
    with pytest.raises(TypeError):
        ports.for_org(PagBankClient, "acme", "pagbank")


def test_an_adapter_taking_a_port_call_differently_does_not_implement_it() -> None:
    # Given adapters whose method exists but takes other parameters than the port's callers pass
    # (each declares the port's class-level ``kinds``: only the call differs)
    class Declared:
        kinds = frozenset({"google"})

    class RenamedKeyword(Declared):
        def search(self, engine: str, query: str, **_: object) -> None: ...

    class MissingKeyword(Declared):
        def search(self, engine: str, q: str, *, location: str | None = None) -> None: ...

    class ExtraRequired(Declared):
        def search(
            self,
            engine: str,
            q: str,
            region: str,
            *,
            location=None,
            hl=None,
            gl=None,
            ll=None,
            num=10,
            start=0,
            no_cache=False,
        ) -> None: ...

    class Fits(Declared):
        def search(
            self,
            engine: str,
            q: str,
            *,
            location=None,
            hl=None,
            gl=None,
            ll=None,
            num=10,
            start=0,
            no_cache=False,
            safe: bool = True,
        ) -> None: ...

    # Then only the one that accepts every port parameter (extras with defaults) implements it
    for cls in (RenamedKeyword, MissingKeyword, ExtraRequired):
        assert ports.missing_members(ports.WebSearch, cls) == frozenset({"search"}), cls.__name__
    assert ports.missing_members(ports.WebSearch, Fits) == frozenset()
