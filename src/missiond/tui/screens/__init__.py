"""The TUI's screens, one per view of the dashboard."""
