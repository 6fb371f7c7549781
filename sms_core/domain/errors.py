"""Refusals a person can act on: each carries a sentence to show, and the field it concerns."""

from __future__ import annotations


class SmsError(Exception):
    """Base of every refusal the pages show as text (never as a traceback)."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class InvalidInput(SmsError):
    """The user's input cannot be used as it is; ``field`` names the input to fix."""


class PermissionDenied(SmsError):
    """The user may not do this, or may not do it in that org. unit."""


class Unauthorized(SmsError):
    """The credentials do not (or no longer) stand for anyone: an API key revoked while its send waited."""


class NotFound(SmsError):
    """No such record — or one the user may not know about (the two look the same on purpose)."""


class Conflict(SmsError):
    """The action lost a race or no longer applies (for example: already resent)."""


class DatabaseUnavailable(SmsError):
    """The database cannot be reached right now; nothing the user typed is lost."""


class ConfigurationError(SmsError):
    """A setting in the environment cannot be used as it is."""


class DatabaseConfigError(ConfigurationError):
    """DATABASE_URL cannot be used (unknown driver, malformed URL)."""


class GatewayUnavailable(SmsError):
    """The SMS gateway cannot be reached or refused our configuration."""


class SignInRefused(PermissionDenied):
    """This person may not use the app (now): unknown or unverified e-mail, deactivated, no org. unit."""
