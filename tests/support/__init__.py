"""Helpers the tests share: the embedded stack, service processes, and signed webhook requests."""
