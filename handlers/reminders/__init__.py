"""Reminders: when to write to whom about what, and escalation."""
