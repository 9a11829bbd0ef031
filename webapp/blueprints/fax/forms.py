"""Forms of the fax area."""
