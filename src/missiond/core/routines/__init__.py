"""Routine schedules and misfire policy: pure arithmetic over aware datetimes."""
