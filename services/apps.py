from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Catalog and applications")

    def ready(self) -> None:
        from audit import presenters
        from privacy import rotation

        from .actions import rotate_attachments_batch
        from .models import Application, Attachment, CitizenProfile
        from .selectors import field_labels

        # Audit pages name the fields an event read by their labels, not their keys.
        presenters.set_field_labeller(field_labels)

        rotation.register_json(
            "application",
            Application,
            "answers",
            lambda a: a.sealing_row,
            label="applications",
        )
        rotation.register_json(
            "profile", CitizenProfile, "data", lambda p: p.sealing_row, label="profiles"
        )
        rotation.register_text(
            "attachment_name", Attachment, ("original_name",), label="file names"
        )
        rotation.register(
            "attachment", Attachment, rotate_attachments_batch, label="attachment files"
        )
