"""Use cases: short functions that change something (send, resend, consent, settings, accounts)."""
