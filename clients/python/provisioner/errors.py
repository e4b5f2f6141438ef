"""The two errors the SDK raises, so that callers catch one type per cause."""
from __future__ import annotations

from typing import Any, Dict, Optional


class ApiError(Exception):
    """An error the API answered, or the network gave (status 0).

    ``code`` is the API's stable code (``not_found``, ``invalid_token``, ...) or one of the client's
    own for what never reached an answer (``unreachable``, ``timeout``, ``operation_failed``), so
    that callers branch on it rather than on the message.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Optional[Dict[str, Any]] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"ApiError(status={self.status}, code={self.code!r}, message={self.message!r})"


class ConfigError(ValueError):
    """A setting the client cannot work with; ``field`` names it as the config file spells it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
