"""One module per page; each renders and calls sms_core (no SQL, no HTTP here)."""
