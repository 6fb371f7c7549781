"""The HTTP API /api/v1 (issue 14): API keys, sending, status, contacts and consent."""
