"""Missions, pure: the spec, the state, the commands and the reducer."""
