"""The web dashboard's static files (served by `missiond serve` at /ui; see specs/CLIENTS.md)."""
