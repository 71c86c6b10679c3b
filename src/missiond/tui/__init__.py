"""`missiond tui`: the terminal twin of the web dashboard, on the SDK only."""

from missiond.tui.app import MissiondTUI

__all__ = ["MissiondTUI"]
