"""Alerts: spike detection, incidents, notification channels."""
