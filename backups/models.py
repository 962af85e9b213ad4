"""Models of backups and restore drills."""
