"""An event's canonical body has two implementations, PostgreSQL's (`BODY_SQL`, used by the
sealer and by fast verification) and Python's (`body_bytes`, used when the event is written and
authenticated, on SQLite and by `verify_audit --independent`). They must produce the same bytes
for any event the portal can record, or a genuine event would fail its authenticator."""

import datetime as dt
import hashlib
import json

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.actions import AuditError, audit_record
from audit.chain import BODY_DIGEST_SQL, BODY_FIELDS, BODY_SQL, body_bytes, body_digest
from audit.models import AuditEvent
from audit.signing import mac_checker
from core.context import bind_context, reset_context

# Text as the portal stores it: any Unicode except NUL and lone surrogates (refused at input).
text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**62), 2**62), text)
details = st.dictionaries(text, st.one_of(scalar, st.lists(scalar, max_size=4)), max_size=6)
ips = st.one_of(
    st.none(),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=4).map(lambda a: f"{a}/8"),  # written behind the portal's back
    st.sampled_from(["::ffff:1.2.3.4", "::1:0", "::2", "::ffff", "1::", "::", "::1", "1:0:0:1::"]),
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
)
def test_postgres_and_python_render_the_same_bytes(
    require_postgres, occurred_at, role, action, target, purpose, ip, info
):
    values = [
        "0f" * 16, occurred_at, None, role, None, action, "x.y", target, None, purpose, "r",
        "web", ip, info,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "  # noqa: S608  (constants only)
            + BODY_SQL
            + ", "
            + BODY_DIGEST_SQL
            + " FROM (SELECT %s::text AS nonce, %s::timestamptz AS occurred_at,"
            " %s::bigint AS actor_id, %s::text AS actor_role, %s::bigint AS actor_department_id,"
            " %s::text AS action, %s::text AS target_type, %s::text AS target_ref,"
            " %s::bigint AS subject_id, %s::text AS purpose, %s::text AS request_id,"
            " %s::text AS source, %s::inet AS ip, %s::jsonb AS details) AS e",
            [*values[:-1], json.dumps(info)],
        )
        rendered, digest = cursor.fetchone()
    # Python renders an address as PostgreSQL prints it, from the plain address (when writing
    # and on SQLite) or from PostgreSQL's own `ip::text` (what verify --independent reads).
    assert body_bytes(values) == rendered.encode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::inet::text", [ip])
        values[12] = cursor.fetchone()[0]
    assert body_bytes(values) == rendered.encode()
    assert hashlib.sha256(rendered.encode()).digest() == bytes(digest) == body_digest(values)
    assert len(BODY_FIELDS) == len(values)


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    role=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20),
    purpose=text,
    ip=st.one_of(st.none(), st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str)),
    info=details,
)
def test_the_authenticator_made_when_writing_holds_for_the_stored_row(role, purpose, ip, info):
    # The application authenticates the body it is about to insert; the database must render
    # the stored row to the very same bytes, or the sealer would refuse a genuine event.
    token = bind_context(request_id="req-00001", source="web", ip=ip)
    try:
        with transaction.atomic():
            event = audit_record(
                action="user.update", actor=None, role=role, purpose=purpose, details=info
            )
    finally:
        reset_context(token)
    mac_ok = mac_checker()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT mac, {BODY_DIGEST_SQL} FROM audit_auditevent WHERE id = %s",  # noqa: S608
                [event.pk],
            )
            mac, digest = cursor.fetchone()
        assert mac_ok(mac, bytes(digest))
    stored = AuditEvent.objects.values_list("mac", *BODY_FIELDS).get(pk=event.pk)
    assert mac_ok(stored[0], body_digest(stored[1:]))
    assert not mac_ok(stored[0], body_digest([*stored[1:-1], {**info, "x": 1}]))


@pytest.mark.django_db
def test_floats_are_refused_in_details():
    # A float could render differently in the two implementations; details never need one.
    with transaction.atomic(), pytest.raises(AuditError):
        audit_record(action="user.update", actor=None, details={"ratio": 0.5})


@given(key=st.binary(min_size=0, max_size=100), body=st.binary(max_size=80))
def test_the_fast_hmac_is_hmac(key, body):
    # Verification computes HMAC-SHA256 with the key's pads hashed once; it must be HMAC.
    import hmac as std

    from audit.signing import hmac_sha256_hex

    assert hmac_sha256_hex(key)(body) == std.digest(key, body, "sha256").hex()
