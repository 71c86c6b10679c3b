"""missiond: a local-first control plane for teams of AI coding agents."""

__version__ = "0.1.0"
