"""Domain errors raised by services; web pages and API responses map them in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises for a person to read."""

    code = "error"
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotSignedIn(DomainError):
    """The action needs a signed-in person."""

    code = "not_signed_in"
    http_status = 401


class Forbidden(DomainError):
    """The person may not do this."""

    code = "forbidden"
    http_status = 403


class NotFound(DomainError):
    """No such thing, or the person may not know it exists."""

    code = "not_found"
    http_status = 404


class InvalidTransition(DomainError):
    """The thing is not in a state where this can happen."""

    code = "conflict"
    http_status = 409


class ValidationFailed(DomainError):
    """Some fields are missing or wrong; ``fields`` maps each to a message."""

    code = "validation_failed"
    http_status = 422

    def __init__(
        self,
        fields: dict[str, str],
        message: str = "Some of the details need correcting.",
        *,
        codes: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.fields = fields
        # A machine-readable code per field (see marketplace.validation.Code); "invalid" when unset.
        self.codes = {name: (codes or {}).get(name, "invalid") for name in fields}


class ServiceUnavailable(DomainError):
    """A part the service relies on (such as the matching model) cannot be used right now."""

    code = "unavailable"
    http_status = 503


class RateLimited(DomainError):
    """The person did this too often in a short time; they can try again later."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        # Seconds until trying again can succeed: the Retry-After header of the answer.
        self.retry_after = max(1, retry_after)
