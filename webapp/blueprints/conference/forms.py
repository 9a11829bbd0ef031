"""Forms of the conference area."""
