"""Rotating the audit signing key keeps what the old key made verifiable: events and checkpoints
name the id of the key they were made with, and verification accepts every key of the keyring
(the current key and `PORTAL_AUDIT_OLD_SIGNING_KEYS`). A checkpoint signed with a key outside
the keyring fails verification, and one key id cannot stand for two keys."""

import base64
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import transaction

from audit import signing
from audit.actions import audit_checkpoint, audit_record, audit_seal
from audit.models import AuditCheckpoint, AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _key(kid: str, byte: int) -> str:
    return f"{kid}:" + base64.b64encode(bytes([byte]) * 32).decode()


KEY_A = _key("a2026", 0xA1)
KEY_B = _key("b2027", 0xB2)
KEY_C = _key("c-unknown", 0xC3)


@pytest.fixture
def keyring(monkeypatch):
    """Set the audit keys the way a deployment does (its environment), as a restart would."""

    def use(current: str, *retired: str) -> None:
        monkeypatch.setenv("PORTAL_AUDIT_SIGNING_KEY", current)
        monkeypatch.setenv("PORTAL_AUDIT_OLD_SIGNING_KEYS", ",".join(retired))
        signing.clear_caches()

    yield use
    monkeypatch.undo()
    signing.clear_caches()


@pytest.fixture
def exported(settings) -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def events(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(action="user.update", actor=None, details={"i": i})


def checkpoints(n: int) -> None:
    """`n` checkpoints with the current key, each over three new sealed events."""
    for _ in range(n):
        events(3)
        assert audit_seal() == 3
        assert audit_checkpoint(force=True) is not None


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", *args, stdout=StringIO(), stderr=err)
    assert exit_info.value.code == 1
    return err.getvalue()


def test_checkpoints_signed_before_a_rotation_still_verify(keyring, exported, tmp_path):
    keyring(KEY_A)
    checkpoints(2)
    keyring(KEY_B, KEY_A)  # rotation: B signs from now on, A is kept for verification
    checkpoints(2)

    key_ids = list(AuditCheckpoint.objects.order_by("number").values_list("key_id", flat=True))
    assert key_ids == ["a2026", "a2026", "b2027", "b2027"]
    macs = AuditEvent.objects.order_by("chain_seq").values_list("mac", flat=True)
    assert {mac.split(":")[0] for mac in macs} == {"a2026", "b2027"}
    exported_ids = [json.loads(p.read_text())["key_id"] for p in sorted(exported.glob("*.json"))]
    assert exported_ids == key_ids

    assert "intact: 12 events, 4 checkpoints, 4 exported ones agree" in verify()
    kept = tmp_path / "kept-elsewhere"
    shutil.copytree(exported, kept)
    assert "4 exported ones agree" in verify("--checkpoints", str(kept))
    result = json.loads(verify("--json", "--checkpoints", str(kept)))
    assert (result["valid"], result["checked"], result["checkpoints"]) == (True, 12, 4)

    # A second rotation keeps both retired keys, in any order.
    keyring(KEY_C, KEY_B, KEY_A)
    assert "4 exported ones agree" in verify("--checkpoints", str(kept))

    # Dropping a retired key loses what it made: the events it authenticated come first.
    keyring(KEY_B)
    assert "bad authenticator" in refused("--checkpoints", str(kept))


def test_a_checkpoint_signed_with_a_key_outside_the_keyring_fails(keyring, exported, tmp_path):
    keyring(KEY_A)
    checkpoints(1)
    events(3)
    assert audit_seal() == 3
    keyring(KEY_C)  # a key the deployment never had signs the next checkpoint
    assert audit_checkpoint(force=True).key_id == "c-unknown"
    kept = tmp_path / "kept-elsewhere"
    shutil.copytree(exported, kept)

    keyring(KEY_B, KEY_A)
    message = refused()
    assert "checkpoint 2 in the database has a bad signature" in message
    assert "'c-unknown', which is not in the keyring" in message
    assert "checkpoint 2 in the database has a bad signature" in refused("--checkpoints", str(kept))
    keyring(KEY_C, KEY_A)  # with that key in the keyring the same series verifies
    assert "2 exported ones agree" in verify("--checkpoints", str(kept))


def test_a_key_id_cannot_stand_for_two_keys(keyring):
    keyring(_key("a2026", 0x01), KEY_A)
    with pytest.raises(ImproperlyConfigured, match="'a2026' stands for two different keys"):
        signing.signing_keys()
    keyring(KEY_B, KEY_A, _key("a2026", 0x02))
    with pytest.raises(ImproperlyConfigured, match="'a2026'"):
        signing.signing_keys()
    keyring(KEY_A, KEY_A)  # the same key listed twice is harmless
    assert signing.signing_keys() == {"a2026": bytes([0xA1]) * 32}


def test_signing_and_encryption_keys_share_one_validation_path():
    """A malformed audit key is refused with the same rules and words as an encryption key."""
    from privacy.keyring import KeyConfigurationError, parse_entry

    good = base64.b64encode(b"k" * 32).decode()
    assert parse_entry(f"a1:{good}", what="X") == ("a1", b"k" * 32)
    assert parse_entry(f"a1:{good.rstrip('=')}", what="X")[0] == "a1"  # padding optional
    for raw, words in [
        (good, "kid:base64"),
        (f"a key:{good}", "must match"),
        ("a1:???", "not valid base64"),
        (f"a1:{base64.b64encode(b'short').decode()}", "32 bytes"),
    ]:
        with pytest.raises(KeyConfigurationError, match=words):
            parse_entry(raw, what="PORTAL_AUDIT_SIGNING_KEY")
