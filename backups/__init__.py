"""Backups: encrypted, authenticated archives of the database and the attachment files, their
restore, and the drill that proves a restore is complete and its audit chain untouched."""
