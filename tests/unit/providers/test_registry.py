"""The registry: providers found by name, one place for what shared code knows about each."""

from __future__ import annotations

import pytest

from hub.providers import all_descriptors, descriptor
from hub.providers.base.descriptor import ProviderDescriptor


def test_each_client_is_found_by_its_key_and_takes_its_base_url_from_the_descriptor() -> None:
    for key, found in all_descriptors().items():
        assert found.package.startswith("hub.providers.")
        if found.client is None:
            continue
        cls = found.client_class()
        assert cls.provider == key
        assert cls.default_base_url == found.default_base_url, key


def test_a_provider_is_found_by_an_alias_and_unknown_names_are_none() -> None:
    assert descriptor("pagseguro") is descriptor("pagbank")
    assert descriptor("whatsapp_cloud") is not None and descriptor("whatsapp_cloud").package == "hub.providers.meta"
    assert descriptor("base") is None and descriptor("no-such-provider") is None


def test_a_descriptor_naming_a_module_without_its_client_is_refused() -> None:
    wrong = ProviderDescriptor(auth="api_key", package="hub.providers.asaas", key="nobody")
    with pytest.raises(LookupError, match="provider = 'nobody'"):
        wrong.client_class()
