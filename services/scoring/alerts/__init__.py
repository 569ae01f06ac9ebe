"""The alert engine of the scoring service: rule evaluation, the alert lifecycle, notification delivery."""
