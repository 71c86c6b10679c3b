"""Pure domain code: no IO, no clock, no random ids. Time and ids arrive as arguments."""
