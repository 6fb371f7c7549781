"""Read models: what the pages show (the overview, one message, delivery rates, contacts)."""
