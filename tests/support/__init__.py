"""Helpers the tests share: service processes, their /metrics, topic contents, signed webhooks."""
