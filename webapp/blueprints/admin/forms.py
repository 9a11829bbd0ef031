"""Forms of the UMS administration (filled by the administration issue)."""
