"""The dashboard area has no forms of its own."""
