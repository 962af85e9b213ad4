"""The citizen-side tests keep uploaded files out of the project's var/."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:
    """Uploaded files go to a per-test folder, not the project's var/."""
    settings.MEDIA_ROOT = tmp_path / "private-media"
