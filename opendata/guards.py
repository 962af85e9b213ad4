"""The database refuses UPDATE, DELETE and TRUNCATE on releases: a published release is
immutable even for someone who bypasses the application. Installed by a migration; the
triggers for PostgreSQL and SQLite are written by `core.guards`, and the app registers the
guard in `OpendataConfig.ready()`."""

from __future__ import annotations

from core.guards import Guard, GuardedTable

GUARD = Guard(
    "opendata",
    "open-data releases are immutable",
    "opendata_release_refuse",
    (GuardedTable("opendata_release", "opendata_release"),),
)
install = GUARD.install
remove = GUARD.remove
