"""Demo mode: the demo data and the demo traffic that keeps statuses moving."""
