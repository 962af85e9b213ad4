"""Attachments are encrypted at rest like answers: AES-256-GCM under the active key, bound to the
attachment's token, decrypted only when the owner or the department downloads them, and
re-encrypted (or, for files stored before encryption, encrypted) by `rotate_keys`."""

from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from privacy import crypto
from services.models import Attachment
from services.selectors import attachment_content
from tests.data import K1, K2
from tests.factories import UserFactory, newborn_draft

pytestmark = pytest.mark.django_db

MARKER = b"310104197903144175"
PDF = b"%PDF-1.4\n% " + MARKER + b"\n%%EOF\n"


def upload(citizen=None, content=PDF):
    _draft, attachment = newborn_draft(citizen or UserFactory(), content=content)
    return attachment


def stored_files(media):
    return [p for p in media.rglob("*") if p.is_file()]


def test_the_stored_file_is_encrypted_and_downloads_as_uploaded(demo, media, client):
    attachment = upload()
    [path] = stored_files(media)
    raw = path.read_bytes()
    assert raw.startswith(crypto.FILE_MAGIC) and MARKER not in raw and b"%PDF" not in raw
    assert attachment.key_id == crypto.active_key_id()
    assert attachment.size == len(PDF)  # the plaintext's size and hash are what the form shows
    assert attachment_content(attachment) == PDF
    client.force_login(attachment.application.citizen)
    response = client.get(
        f"/applications/{attachment.application.reference}/files/{attachment.token}/"
    )
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_a_file_copied_onto_another_attachment_does_not_decrypt(demo, media):
    first, second = upload(), upload()
    with first.file.open("rb") as handle:
        blob = handle.read()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_file(blob, aad=second.aad)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_file(blob[:-1] + bytes([blob[-1] ^ 1]), aad=first.aad)  # one bit flipped
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_file(PDF, aad=first.aad)  # not an encrypted file at all


def test_rotate_keys_reencrypts_files_and_encrypts_old_plaintext_ones(
    on_k1,
    demo,
    media,
    keys,
    django_capture_on_commit_callbacks,
):
    keys(K1, "k1")
    on_k1 = upload()
    legacy = upload()
    # A file stored before files were encrypted: plaintext on disk, no key id.
    legacy.file.delete(save=False)
    legacy.file.save(f"{legacy.token}.plain", ContentFile(PDF), save=False)
    Attachment.objects.filter(pk=legacy.pk).update(file=legacy.file.name, key_id="")
    legacy.refresh_from_db()
    assert attachment_content(legacy) == PDF

    keys(f"{K1},{K2}", "k2")
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # old files go after the commit
        call_command("rotate_keys", "--batch", "1", stdout=out)
    assert "attachment files: 2/2" in out.getvalue()
    files = stored_files(media)
    assert len(files) == 2  # the old k1 file and the plaintext file were deleted
    assert all(f.read_bytes().startswith(crypto.FILE_MAGIC + b"k2\n") for f in files)
    assert not any(MARKER in f.read_bytes() for f in files)

    keys(K2, "k2")  # the old key is gone; both files still read
    for attachment in (on_k1, legacy):
        attachment.refresh_from_db()
        assert attachment.key_id == "k2" and attachment_content(attachment) == PDF

    out = StringIO()
    call_command("rotate_keys", stdout=out)  # nothing left to do
    assert "0 rows re-encrypted" in out.getvalue()
