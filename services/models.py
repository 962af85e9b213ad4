"""The catalog and the citizen's applications (issue 3)."""
