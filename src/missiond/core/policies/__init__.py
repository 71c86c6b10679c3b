"""Side-effect policy: what an action is, and whether it may run."""
