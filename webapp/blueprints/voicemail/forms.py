"""Forms of the voicemail area."""
