"""URLs that a provider (or the hub) will fetch on a caller's behalf: only public https.

A WhatsApp media link or a template header link is downloaded by the provider from its own
network (Evolution API runs next to other services; Meta fetches from its edge), so a caller
could otherwise make it fetch ``http://169.254.169.254/latest/meta-data/`` or a service on a
private address (server-side request forgery). Every such field is a :data:`PublicHttpsUrl`:

* ``https`` only, at most :data:`MAX_URL_LENGTH` characters, no ``user:password@``;
* parsed the WHATWG way (pydantic's ``HttpUrl``), so ``https://2130706433/`` or
  ``https://0x7f.1/`` are seen as the ``127.0.0.1`` they are, and the normalised URL is
  what is sent on;
* the host is not a metadata name (``metadata.google.internal`` …) nor ``localhost``, and the
  host — an IP literal, or **every** address its name resolves to — is globally routable
  (:func:`is_public_address`: not loopback, private, link-local, CGNAT ``100.64.0.0/10``,
  multicast, reserved, unspecified, documentation, nor one of those embedded in an
  IPv4-mapped, NAT64 or 6to4 IPv6 address). A name that does not resolve is refused.

Resolution goes through :func:`resolve_host` (``socket.getaddrinfo``), a module attribute so
tests replace it and never touch the network. The check happens when the request is
validated; a provider resolving the name again later could in principle get another answer
(DNS rebinding with a zero TTL): that residual risk is the provider's network's to contain.

URLs the hub presigns for its own buckets (``hub.messaging.media``) are not caller input and
do not pass through here: locally they are ``http://127.0.0.1:5000/…`` and must keep working.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Annotated

from pydantic import AfterValidator, HttpUrl, Strict, TypeAdapter, ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Browsers' and most CDNs' practical limit; far beyond any media link.
MAX_URL_LENGTH = 2048
# Cloud metadata endpoints reachable by name (their addresses are link-local or private and
# refused anyway; the names are refused before any lookup).
BLOCKED_HOSTS = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.google.internal",  # GCP
        "metadata.goog",  # GCP
        "instance-data",  # AWS (EC2's resolvable name for 169.254.169.254)
        "instance-data.ec2.internal",
    }
)
# RFC 6052 well-known NAT64 prefix: 64:ff9b::a9fe:a9fe reaches 169.254.169.254 through a NAT64.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (raises ``OSError`` when it does not resolve)."""
    infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public_address(address: IPAddress) -> bool:
    """Globally routable unicast: what a provider may be asked to fetch from."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public_address(embedded):
            return False
    return address.is_global and not address.is_multicast


def _parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def check_public_https_url(value: str) -> str:
    """The normalised URL, or ValueError saying which rule it breaks (never echoing it)."""
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        url = _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError("is not a valid URL") from None
    if url.scheme != "https":
        raise ValueError("must be an https URL")
    if url.username or url.password:
        raise ValueError("must not carry a user name or password")
    host = (url.host or "").rstrip(".").lower()
    if not host:
        raise ValueError("must have a host")
    if host in BLOCKED_HOSTS or host.endswith(".localhost"):
        raise ValueError("must not point at a local or metadata host")
    literal = _parse_ip(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [a for a in (_parse_ip(r) for r in resolve_host(host)) if a is not None]
        except (OSError, UnicodeError):
            raise ValueError("host does not resolve") from None
        if not addresses:
            raise ValueError("host does not resolve")
    if not all(is_public_address(address) for address in addresses):
        raise ValueError("host must be a public address (not loopback, private, link-local, metadata or reserved)")
    return str(url)


PublicHttpsUrl = Annotated[str, Strict(), AfterValidator(check_public_https_url)]
"""A URL a provider or the hub will fetch: public https only (see the module docstring)."""
