"""Forms of the ordering area (Bestellsystem)."""
