"""The catalog stamp: one row whose value changes, in the same transaction, with every change to
the data dictionary, the services or their versions (see `services/catalog.py`).

Triggers rather than calls in the actions, so that no write can miss it: the admin, seeding,
data migrations, bulk updates, raw SQL and TRUNCATE (the test runner's flush) all fire them.
A new value is never an old one, even after a rollback (a sequence on PostgreSQL, a random
64-bit number on SQLite), so a process never takes an uncommitted catalog for a committed one.
"""

from django.db import migrations

TABLES = ("services_fielddefinition", "services_service", "services_serviceversion")

POSTGRESQL = [
    "CREATE SEQUENCE services_catalog_stamp_seq",
    # Started from the clock, so that migrating back and forth never hands out old values again.
    "SELECT setval('services_catalog_stamp_seq',"
    " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
    "CREATE TABLE services_catalog_stamp ("
    " id smallint PRIMARY KEY CHECK (id = 1), stamp bigint NOT NULL)",
    "INSERT INTO services_catalog_stamp VALUES (1, nextval('services_catalog_stamp_seq'))",
    """CREATE FUNCTION services_catalog_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE services_catalog_stamp SET stamp = nextval('services_catalog_stamp_seq') WHERE id = 1;
    RETURN NULL;
END
$$""",
    *(
        f"CREATE TRIGGER services_catalog_touch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
        f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION services_catalog_touch()"
        for table in TABLES
    ),
]
POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER services_catalog_touch ON {table}" for table in TABLES),
    "DROP FUNCTION services_catalog_touch()",
    "DROP TABLE services_catalog_stamp",
    "DROP SEQUENCE services_catalog_stamp_seq",
]

EVENTS = ("INSERT", "UPDATE", "DELETE")
SQLITE = [
    "CREATE TABLE services_catalog_stamp ("
    " id integer PRIMARY KEY CHECK (id = 1), stamp integer NOT NULL)",
    "INSERT INTO services_catalog_stamp VALUES (1, random())",
    *(
        f"CREATE TRIGGER services_catalog_touch_{table}_{event.lower()} AFTER {event} ON {table}"
        " BEGIN UPDATE services_catalog_stamp SET stamp = random() WHERE id = 1; END"
        for table in TABLES
        for event in EVENTS
    ),
]
SQLITE_REVERSE = [
    *(
        f"DROP TRIGGER services_catalog_touch_{table}_{event.lower()}"
        for table in TABLES
        for event in EVENTS
    ),
    "DROP TABLE services_catalog_stamp",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"no catalog stamp for {schema_editor.connection.vendor}")
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0004_attachment_key_id"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
