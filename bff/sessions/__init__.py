"""Session persistence: the store interface and its adapters, cookie signing, encryption at rest.

* :mod:`bff.sessions.store`: the ``SessionStore`` Protocol and ``SessionRecord``.
* :mod:`bff.sessions.crypto`: ``TokenCipher`` (AES-256-GCM keyed from ``BFF_SECRET_KEYS``).
* :mod:`bff.sessions.cookies`: ``CookieSigner`` (itsdangerous) and ``new_session_id``.
* Adapters: ``memory``, ``sqlite``, ``redis``, ``dynamodb``; :func:`open_store` picks one from
  ``BFF_SESSION_STORE``.
"""

from __future__ import annotations

from bff.sessions.cookies import CookieSigner, new_session_id
from bff.sessions.crypto import DecryptError, TokenCipher
from bff.sessions.store import SessionExists, SessionRecord, SessionStore, StoreUnavailable

__all__ = [
    "CookieSigner",
    "DecryptError",
    "SessionExists",
    "SessionRecord",
    "SessionStore",
    "StoreUnavailable",
    "TokenCipher",
    "new_session_id",
]
