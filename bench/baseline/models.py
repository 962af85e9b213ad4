"""The bare stack's trivial model: what a DRF create endpoint costs with nothing of the portal."""

from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text
