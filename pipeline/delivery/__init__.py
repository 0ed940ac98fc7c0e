"""Delivery: newsletter issues, the send log, messages, transports and the send run (effects)."""
