"""Models of the open-data releases."""
