"""What the user's list of their own sessions (``GET /bff/sessions``) may show about each one,
and the public handle that names a session there.

* :func:`device_label`: a coarse label of a User-Agent ("Chrome on Windows", "Safari on iOS"),
  the browser family and the OS family only: no versions, no device model, never the raw header
  (it is client-controlled and fingerprint-rich).
* :func:`coarse_network`: the client's network, not its address: an IPv4 /24, an IPv6 /48.
* :class:`SessionHandles`: ``handle = base64url(HMAC-SHA256(key, "bff.session-handle" || id))[:22]``
  (128 bits) under a key derived from the NEWEST ``BFF_SECRET_KEYS`` entry. A handle names a
  session in the list and in ``DELETE /bff/sessions/{handle}`` without being its id: it cannot
  be turned back into the id, and as a cookie it is worthless (the cookie is the id signed by
  :class:`~bff.sessions.cookies.CookieSigner`, and the store knows sessions by id only). A key
  rotation changes every handle; the list is re-read before anything is ended, so that is fine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re

#: Longest User-Agent read; anything beyond is not needed for a family name.
MAX_USER_AGENT = 512

# Order matters: Edge and Opera say "Chrome", Chrome says "Safari", iOS says "Mac OS X".
_BROWSERS = (
    ("Edge", re.compile(r"\b(?:Edg|EdgA|EdgiOS|Edge)/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|HeadlessChrome|Chromium)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
_SYSTEMS = (
    ("iOS", re.compile(r"\b(?:iPhone|iPad|iPod)\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
)
UNKNOWN_DEVICE = "Unknown browser"


def device_label(user_agent: str | None) -> str:
    """``"<browser> on <system>"``, either part left out when unknown; :data:`UNKNOWN_DEVICE`
    when neither is recognised."""
    ua = (user_agent or "")[:MAX_USER_AGENT]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(ua)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(ua)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"Browser on {system}" if system else UNKNOWN_DEVICE)


def coarse_network(address: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network of ``address`` in CIDR form; an IPv4-mapped IPv6
    address counts as IPv4. None for anything that is not an IP address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


_HANDLE_SALT = b"bff.session-handle\x00"
HANDLE_LENGTH = 22  # characters of base64url: 132 bits, more than enough to be unguessable
HANDLE_PATTERN = re.compile(rf"^[A-Za-z0-9_-]{{{HANDLE_LENGTH}}}$")


class SessionHandles:
    """Session id → its public handle (see the module docstring)."""

    def __init__(self, secret_keys: tuple[str, ...]) -> None:
        if not secret_keys:
            raise ValueError("SessionHandles needs at least one secret key")
        self._key = hashlib.sha256(_HANDLE_SALT + secret_keys[0].encode()).digest()

    def handle(self, session_id: str) -> str:
        digest = hmac.new(self._key, _HANDLE_SALT + session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:HANDLE_LENGTH]
