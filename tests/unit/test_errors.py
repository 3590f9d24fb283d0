"""HubError.recast: a provider's own code turning one error class into another keeps the answer."""

from __future__ import annotations

from hub.errors import AuthenticationError, InvalidRequestError, RateLimitedError


def test_recast_keeps_what_the_provider_answered() -> None:
    # Given an error the HTTP status made
    error = InvalidRequestError(
        "gemini answered 400: API key not valid",
        provider="gemini",
        http_status=400,
        code="API_KEY_INVALID",
        request_id="req-1",
        details={"field": "key"},
    )
    # When the provider's code says it is really an authentication failure
    recast = error.recast(AuthenticationError)
    # Then only the class changes
    assert type(recast) is AuthenticationError
    assert recast.to_dict() == {**error.to_dict(), "error": "AuthenticationError"}
    assert recast.details is not error.details


def test_recast_replaces_the_message_and_fields_it_is_given() -> None:
    error = InvalidRequestError("openai answered 429: slow down", provider="openai", http_status=429, code="x")
    recast = error.recast(RateLimitedError, "slower, please", retry_after=7, code="slow_down")
    assert isinstance(recast, RateLimitedError)
    assert (recast.message, recast.code, recast.retry_after) == ("slower, please", "slow_down", 7.0)
    assert (recast.provider, recast.http_status) == ("openai", 429)
