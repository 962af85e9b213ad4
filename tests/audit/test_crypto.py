"""Personal data at rest: AES-GCM tokens bound to their row, key rotation, blind indexes.

Covers the requirements that a wrong key, row or tampered token fails loudly (never ciphertext
or a blank), that old tokens survive a new active key, and that keys never come from SECRET_KEY.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from privacy.crypto import (
    CryptoError,
    DecryptionError,
    KeyConfigurationError,
    active_key_id,
    blind_index,
    decrypt,
    encrypt,
    is_encrypted,
    reset_keyring_cache,
    rotate,
)

AAD = "application:ABC-123:applicant.national_id"
NATIONAL_ID = "11010519491231002X"
KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
# Encodes with '+' and '/' in standard base64, '-' and '_' in urlsafe: both forms must load.
KEY_PUNCT = b"\xfb\xff\xbf" * 10 + b"\xfb\xff"
BLIND = bytes(range(64, 96))


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def use_env(
    monkeypatch: pytest.MonkeyPatch,
    keys: dict[str, bytes | str],
    *,
    active: str | None = None,
    blind: bytes = BLIND,
) -> None:
    """Configure keys through the environment, as production does, and reload them."""
    entries = [f"{kid}:{k if isinstance(k, str) else b64(k)}" for kid, k in keys.items()]
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", ",".join(entries))
    monkeypatch.setenv("PORTAL_BLIND_INDEX_KEY", b64(blind))
    if active is None:
        monkeypatch.delenv("PORTAL_ENCRYPTION_ACTIVE_KEY", raising=False)
    else:
        monkeypatch.setenv("PORTAL_ENCRYPTION_ACTIVE_KEY", active)
    reset_keyring_cache()


def payload(token: str) -> bytes:
    return base64.urlsafe_b64decode(token.split(":", 2)[2])


def with_payload(token: str, blob: bytes) -> str:
    version, kid, _ = token.split(":", 2)
    return f"{version}:{kid}:{base64.urlsafe_b64encode(blob).decode()}"


@pytest.fixture(autouse=True)
def isolated_keys(monkeypatch, settings, tmp_path) -> Path:
    """No keys from the developer's environment or var/ leak in; every test starts uncached."""
    for name in (
        "PORTAL_ENCRYPTION_KEYS",
        "PORTAL_ENCRYPTION_ACTIVE_KEY",
        "PORTAL_BLIND_INDEX_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    key_file = tmp_path / "keys" / "keys.json"
    settings.PORTAL_KEY_FILE = key_file
    settings.PORTAL_GENERATE_LOCAL_KEYS = False
    reset_keyring_cache()
    yield key_file
    reset_keyring_cache()


@pytest.fixture
def one_key(monkeypatch) -> None:
    use_env(monkeypatch, {"k1": KEY_A})


# --- Round trip ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("one_key")
@pytest.mark.parametrize("plaintext", [NATIONAL_ID, "", "张三 — Zhang San", "x" * 10_000])
def test_round_trip(plaintext):
    token = encrypt(plaintext, aad=AAD)
    assert decrypt(token, aad=AAD) == plaintext


@pytest.mark.usefixtures("one_key")
def test_token_shape_names_version_and_key():
    token = encrypt(NATIONAL_ID, aad=AAD)
    assert token.startswith("v1:k1:")
    assert is_encrypted(token)
    # 12-byte nonce + ciphertext as long as the plaintext + 16-byte tag.
    assert len(payload(token)) == 12 + len(NATIONAL_ID) + 16


@pytest.mark.usefixtures("one_key")
def test_each_encryption_uses_a_fresh_nonce():
    tokens = {encrypt(NATIONAL_ID, aad=AAD) for _ in range(50)}
    assert len(tokens) == 50
    assert len({payload(t)[:12] for t in tokens}) == 50


@pytest.mark.usefixtures("one_key")
def test_ciphertext_does_not_contain_the_plaintext():
    token = encrypt(NATIONAL_ID, aad=AAD)
    assert NATIONAL_ID not in token
    assert NATIONAL_ID.encode() not in payload(token)
    assert NATIONAL_ID[:8].encode() not in payload(token)


@pytest.mark.usefixtures("one_key")
def test_empty_aad_is_refused():
    with pytest.raises(ValueError, match="aad"):
        encrypt(NATIONAL_ID, aad="")
    token = encrypt(NATIONAL_ID, aad=AAD)
    with pytest.raises(ValueError, match="aad"):
        decrypt(token, aad="")


@pytest.mark.usefixtures("one_key")
def test_encrypt_refuses_non_strings():
    with pytest.raises(TypeError):
        encrypt(None, aad=AAD)  # type: ignore[arg-type]


# --- Failing loudly ------------------------------------------------------------------------------


@pytest.mark.usefixtures("one_key")
@pytest.mark.parametrize(
    "other_aad",
    [
        "application:ABC-124:applicant.national_id",  # another row
        "application:ABC-123:applicant.phone",  # another field of the same row
        AAD + " ",
    ],
)
def test_wrong_aad_fails(other_aad):
    token = encrypt(NATIONAL_ID, aad=AAD)
    with pytest.raises(DecryptionError, match="wrong key, wrong aad or tampered"):
        decrypt(token, aad=other_aad)


@pytest.mark.usefixtures("one_key")
@pytest.mark.parametrize("position", [0, 11, 12, 20, -16, -1], ids=lambda p: f"byte{p}")
def test_tampered_bytes_fail(position):
    token = encrypt(NATIONAL_ID, aad=AAD)
    blob = bytearray(payload(token))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        decrypt(with_payload(token, bytes(blob)), aad=AAD)


@pytest.mark.usefixtures("one_key")
def test_truncated_or_extended_tokens_fail():
    token = encrypt(NATIONAL_ID, aad=AAD)
    blob = payload(token)
    for damaged in (blob[:-1], blob[:28], blob + b"\x00"):
        with pytest.raises(DecryptionError):
            decrypt(with_payload(token, damaged), aad=AAD)


@pytest.mark.usefixtures("one_key")
def test_ciphertext_moved_to_another_token_fails():
    first = payload(encrypt("first", aad=AAD))
    second = payload(encrypt("second", aad=AAD))
    spliced = with_payload("v1:k1:x", first[:12] + second[12:])
    with pytest.raises(DecryptionError):
        decrypt(spliced, aad=AAD)


@pytest.mark.usefixtures("one_key")
def test_unknown_key_id_fails():
    token = encrypt(NATIONAL_ID, aad=AAD).replace("v1:k1:", "v1:k9:")
    with pytest.raises(DecryptionError, match="Unknown encryption key id 'k9'"):
        decrypt(token, aad=AAD)


def test_wrong_key_under_the_same_id_fails(monkeypatch):
    use_env(monkeypatch, {"k1": KEY_A})
    token = encrypt(NATIONAL_ID, aad=AAD)
    use_env(monkeypatch, {"k1": KEY_B})
    with pytest.raises(DecryptionError, match="wrong key"):
        decrypt(token, aad=AAD)


@pytest.mark.usefixtures("one_key")
@pytest.mark.parametrize(
    "token",
    [
        "",
        NATIONAL_ID,
        "v1:k1",
        "v1:k1:",
        "v2:k1:" + "A" * 40,
        "v1::" + "A" * 40,
        "v1:a-kid-far-too-long:" + "A" * 40,
        "v1:k1:" + "A" * 40 + "!",
        "v1:k1:" + "A" * 41,  # impossible base64 length
        "v1:k1:" + "A" * 36,  # decodes to 27 bytes: shorter than nonce + tag
        "v1:k1:" + "A" * 40 + "\n",
        " v1:k1:" + "A" * 40,
        None,
    ],
)
def test_malformed_tokens_fail(token):
    with pytest.raises(DecryptionError):
        decrypt(token, aad=AAD)


def test_error_classes():
    assert issubclass(DecryptionError, CryptoError)
    assert issubclass(KeyConfigurationError, ImproperlyConfigured)


# --- Rotation ------------------------------------------------------------------------------------


def test_old_tokens_decrypt_after_a_new_active_key_and_rotate_to_it(monkeypatch):
    use_env(monkeypatch, {"k1": KEY_A})
    old = encrypt(NATIONAL_ID, aad=AAD)

    use_env(monkeypatch, {"k1": KEY_A, "k2": KEY_B})  # the last listed key becomes active
    assert active_key_id() == "k2"
    assert decrypt(old, aad=AAD) == NATIONAL_ID
    assert encrypt(NATIONAL_ID, aad=AAD).startswith("v1:k2:")

    rotated = rotate(old, aad=AAD)
    assert rotated.startswith("v1:k2:")
    assert decrypt(rotated, aad=AAD) == NATIONAL_ID
    assert rotate(rotated, aad=AAD) == rotated

    # Once k1 is retired, only the rotated token still decrypts, and the old one fails loudly.
    use_env(monkeypatch, {"k2": KEY_B})
    assert decrypt(rotated, aad=AAD) == NATIONAL_ID
    with pytest.raises(DecryptionError, match="Unknown encryption key id 'k1'"):
        decrypt(old, aad=AAD)


def test_rotate_checks_the_token_even_when_already_on_the_active_key(monkeypatch):
    use_env(monkeypatch, {"k1": KEY_A})
    token = encrypt(NATIONAL_ID, aad=AAD)
    with pytest.raises(DecryptionError):
        rotate(token, aad="application:OTHER:applicant.national_id")
    with pytest.raises(DecryptionError):
        rotate("v1:k1:" + "A" * 40, aad=AAD)


def test_active_key_can_be_chosen_explicitly(monkeypatch):
    use_env(monkeypatch, {"k1": KEY_A, "k2": KEY_B}, active="k1")
    assert active_key_id() == "k1"
    assert encrypt("x", aad=AAD).startswith("v1:k1:")


def test_standard_and_urlsafe_base64_keys_are_the_same_key(monkeypatch):
    standard = base64.b64encode(KEY_PUNCT).decode()
    urlsafe = base64.urlsafe_b64encode(KEY_PUNCT).decode().rstrip("=")
    assert "+" in standard and "/" in standard
    use_env(monkeypatch, {"k1": standard})
    token = encrypt(NATIONAL_ID, aad=AAD)
    use_env(monkeypatch, {"k1": urlsafe})
    assert decrypt(token, aad=AAD) == NATIONAL_ID


def test_keyring_is_cached_until_reset(monkeypatch):
    use_env(monkeypatch, {"k1": KEY_A})
    assert active_key_id() == "k1"
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", f"k1:{b64(KEY_A)},k2:{b64(KEY_B)}")
    assert active_key_id() == "k1"
    reset_keyring_cache()
    assert active_key_id() == "k2"


# --- Key configuration ---------------------------------------------------------------------------


def test_no_keys_at_all_is_a_configuration_error(isolated_keys):
    with pytest.raises(KeyConfigurationError) as excinfo:
        encrypt(NATIONAL_ID, aad=AAD)
    message = str(excinfo.value)
    for name in (
        "PORTAL_ENCRYPTION_KEYS",
        "PORTAL_BLIND_INDEX_KEY",
        "PORTAL_ENCRYPTION_ACTIVE_KEY",
    ):
        assert name in message
    assert not isolated_keys.exists()
    for call in (active_key_id, lambda: blind_index("x", purpose="p")):
        with pytest.raises(KeyConfigurationError):
            call()


@pytest.mark.parametrize(
    ("keys", "active", "blind", "match"),
    [
        (f"k1:{b64(KEY_A[:16])}", None, BLIND, "32 bytes"),
        ("k1:not*base64", None, BLIND, "base64"),
        (f"bad kid!:{b64(KEY_A)}", None, BLIND, "key id"),
        (f"k1:{b64(KEY_A)},k1:{b64(KEY_B)}", None, BLIND, "twice"),
        (b64(KEY_A), None, BLIND, "kid:base64key"),
        (f"k1:{b64(KEY_A)}", "k2", BLIND, "active key id 'k2'"),
        (f"k1:{b64(KEY_A)}", None, KEY_A, "blind index key must differ"),
    ],
)
def test_malformed_environment_keys_are_refused(monkeypatch, keys, active, blind, match):
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", keys)
    monkeypatch.setenv("PORTAL_BLIND_INDEX_KEY", b64(blind))
    if active:
        monkeypatch.setenv("PORTAL_ENCRYPTION_ACTIVE_KEY", active)
    with pytest.raises(KeyConfigurationError, match=match):
        active_key_id()


def test_missing_blind_index_key_is_refused(monkeypatch):
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", f"k1:{b64(KEY_A)}")
    with pytest.raises(KeyConfigurationError, match="PORTAL_BLIND_INDEX_KEY is required"):
        active_key_id()


def test_half_set_environment_never_falls_back_to_a_local_file(
    monkeypatch, settings, isolated_keys
):
    settings.PORTAL_GENERATE_LOCAL_KEYS = True
    monkeypatch.setenv("PORTAL_BLIND_INDEX_KEY", b64(BLIND))
    with pytest.raises(KeyConfigurationError, match="PORTAL_ENCRYPTION_KEYS is not"):
        active_key_id()
    assert not isolated_keys.exists()


def test_keys_do_not_come_from_secret_key(monkeypatch, settings):
    use_env(monkeypatch, {"k1": KEY_A})
    token = encrypt(NATIONAL_ID, aad=AAD)
    index = blind_index(NATIONAL_ID, purpose="national_id")
    settings.SECRET_KEY = "another-secret-key-entirely-" + "x" * 30
    reset_keyring_cache()
    assert decrypt(token, aad=AAD) == NATIONAL_ID
    assert blind_index(NATIONAL_ID, purpose="national_id") == index


# --- Local key file ------------------------------------------------------------------------------


def test_local_key_file_is_not_generated_unless_asked(isolated_keys):
    with pytest.raises(KeyConfigurationError, match=str(isolated_keys)):
        active_key_id()
    assert not isolated_keys.exists()


def test_local_key_file_is_generated_when_asked(settings, isolated_keys, caplog):
    settings.PORTAL_GENERATE_LOCAL_KEYS = True
    with caplog.at_level(logging.WARNING, logger="privacy.crypto"):
        token = encrypt(NATIONAL_ID, aad=AAD)

    assert stat.S_IMODE(os.stat(isolated_keys).st_mode) == 0o600
    data = json.loads(isolated_keys.read_text())
    assert data["active"] == "k1"
    assert set(data) == {"encryption_keys", "active", "blind_index_key"}
    assert len(base64.urlsafe_b64decode(data["encryption_keys"]["k1"])) == 32
    assert len(base64.urlsafe_b64decode(data["blind_index_key"])) == 32
    assert data["blind_index_key"] != data["encryption_keys"]["k1"]

    warnings = [r for r in caplog.records if r.name == "privacy.crypto"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert str(isolated_keys) in warnings[0].getMessage()
    assert "never be used in production" in warnings[0].getMessage()

    # The keys persist: a restarted process reads the same file and does not regenerate it.
    caplog.clear()
    reset_keyring_cache()
    with caplog.at_level(logging.WARNING, logger="privacy.crypto"):
        assert decrypt(token, aad=AAD) == NATIONAL_ID
    assert not [r for r in caplog.records if r.name == "privacy.crypto"]


def test_key_file_defaults_to_var_dir(settings, tmp_path):
    settings.PORTAL_KEY_FILE = None
    settings.VAR_DIR = tmp_path / "var"
    settings.PORTAL_GENERATE_LOCAL_KEYS = True
    assert active_key_id() == "k1"
    assert (tmp_path / "var" / "keys.json").exists()


def test_existing_key_file_is_used_without_generation(isolated_keys):
    isolated_keys.parent.mkdir()
    isolated_keys.write_text(
        json.dumps(
            {
                "encryption_keys": {"old": b64(KEY_A), "new": b64(KEY_B)},
                "active": "old",
                "blind_index_key": b64(BLIND),
            }
        )
    )
    assert active_key_id() == "old"
    assert decrypt(encrypt("x", aad=AAD), aad=AAD) == "x"


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", "{}", json.dumps({"encryption_keys": {"k1": b64(KEY_A)}})],
)
def test_malformed_key_file_is_refused(isolated_keys, content):
    isolated_keys.parent.mkdir()
    isolated_keys.write_text(content)
    with pytest.raises(KeyConfigurationError, match="key file"):
        active_key_id()


def test_environment_takes_precedence_over_the_key_file(monkeypatch, settings, isolated_keys):
    settings.PORTAL_GENERATE_LOCAL_KEYS = True
    use_env(monkeypatch, {"prod1": KEY_A})
    assert active_key_id() == "prod1"
    assert not isolated_keys.exists()


# --- is_encrypted --------------------------------------------------------------------------------


@pytest.mark.usefixtures("one_key")
def test_is_encrypted_recognises_only_tokens():
    assert is_encrypted(encrypt("", aad=AAD))
    for value in (NATIONAL_ID, "", "v1:k1:", "v1:k1:abc!", "v2:k1:" + "A" * 40, None, 42, b"v1"):
        assert not is_encrypted(value)


# --- Blind index ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("one_key")
def test_blind_index_is_deterministic_hex_sha256():
    first = blind_index(NATIONAL_ID, purpose="national_id")
    assert first == blind_index(NATIONAL_ID, purpose="national_id")
    assert len(first) == 64
    int(first, 16)
    assert NATIONAL_ID not in first


@pytest.mark.usefixtures("one_key")
def test_blind_index_normalises_whitespace_and_case():
    expected = blind_index(NATIONAL_ID, purpose="national_id")
    assert blind_index("  11010519491231002x\n", purpose="national_id") == expected
    assert blind_index("11010519491231002Y", purpose="national_id") != expected


@pytest.mark.usefixtures("one_key")
def test_blind_index_separates_purposes():
    assert blind_index("13800138000", purpose="phone") != blind_index(
        "13800138000", purpose="national_id"
    )
    # The separator keeps purpose and value apart: ("ab", "c") is not ("a", "bc").
    assert blind_index("C", purpose="AB") != blind_index("BC", purpose="A")


@pytest.mark.usefixtures("one_key")
@pytest.mark.parametrize("purpose", ["", "a\x00b"])
def test_blind_index_refuses_ambiguous_purposes(purpose):
    with pytest.raises(ValueError, match="purpose"):
        blind_index(NATIONAL_ID, purpose=purpose)


def test_blind_index_depends_on_its_own_key_only(monkeypatch):
    use_env(monkeypatch, {"k1": KEY_A})
    index = blind_index(NATIONAL_ID, purpose="national_id")
    use_env(monkeypatch, {"k1": KEY_A, "k2": KEY_B})  # rotating encryption keys keeps lookups
    assert blind_index(NATIONAL_ID, purpose="national_id") == index
    use_env(monkeypatch, {"k1": KEY_A}, blind=KEY_PUNCT)
    assert blind_index(NATIONAL_ID, purpose="national_id") != index
