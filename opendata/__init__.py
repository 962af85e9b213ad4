"""Open data: immutable, signed releases of anonymised statistics about the portal's services,
with small-cell suppression and optional differential privacy."""
