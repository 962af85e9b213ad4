"""Models of the oversight dashboards."""
