"""The chain's canonical form has two implementations, PostgreSQL's (`CANONICAL_SQL`, used by the
sealer and by fast verification) and Python's (`canonical_values`, used on SQLite and by
`verify_audit --independent`). They must produce the same bytes for any event the portal can
record, or verification would depend on where it runs."""

import datetime as dt
import hashlib
import json

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.actions import AuditError, audit_record
from audit.chain import CANONICAL_SQL, CONTENT_DIGEST_SQL, FIELDS, canonical_values

# Text as the portal stores it: any Unicode except NUL and lone surrogates (refused at input).
text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**62), 2**62), text)
details = st.dictionaries(text, st.one_of(scalar, st.lists(scalar, max_size=4)), max_size=6)
ips = st.one_of(
    st.none(),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=4).map(lambda a: f"{a}/8"),  # written behind the portal's back
)
times = st.datetimes(
    min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    occurred_at=times,
    role=text,
    action=text,
    target=text,
    purpose=text,
    ip=ips,
    info=details,
    seq=st.integers(1, 2**40),
)
def test_postgres_and_python_render_the_same_bytes(
    require_postgres, occurred_at, role, action, target, purpose, ip, info, seq
):
    values = [
        1, seq, occurred_at, None, role, None, action, "x.y", target, None, purpose, "r", "web",
        ip, info,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "  # noqa: S608  (constants only)
            + CANONICAL_SQL.format(seq="seq")
            + ", "
            + CONTENT_DIGEST_SQL.format(seq="seq")
            + " FROM (SELECT %s::bigint AS id, %s::bigint AS seq, %s::timestamptz AS occurred_at,"
            " %s::bigint AS actor_id, %s::text AS actor_role, %s::bigint AS actor_department_id,"
            " %s::text AS action, %s::text AS target_type, %s::text AS target_ref,"
            " %s::bigint AS subject_id, %s::text AS purpose, %s::text AS request_id,"
            " %s::text AS source, %s::inet AS ip, %s::jsonb AS details) AS e",
            [*values[:-1], json.dumps(info)],
        )
        rendered, digest = cursor.fetchone()
    # Python sees the IP as PostgreSQL prints it (what verify --independent reads).
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::inet::text", [ip])
        values[13] = cursor.fetchone()[0]
    assert canonical_values(values) == rendered.encode()
    assert hashlib.sha256(rendered.encode()).digest() == bytes(digest)
    assert len(FIELDS) == len(values)


@pytest.mark.django_db
def test_floats_are_refused_in_details():
    # A float could render differently in the two implementations; details never need one.
    with transaction.atomic(), pytest.raises(AuditError):
        audit_record(action="user.update", actor=None, details={"ratio": 0.5})
