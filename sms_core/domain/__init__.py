"""Domain rules: statuses, segments, phones, senders, permissions and refusals. Plain code, no I/O."""
