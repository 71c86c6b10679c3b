"""The `missiond` command line, built on `missiond.sdk` (entry point: `missiond.cli.main.cli`)."""
