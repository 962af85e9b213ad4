"""Every write of the citizen side, each with its audit event in its transaction.

One module per concern: `catalog` (services, versions, publishing, the data dictionary),
`applications` (create, answers, submit, withdraw, the routing request), `attachments`,
`profile`, `representation` (representatives) and `retention` (erasure, the retention sweep,
the key-rotation batch of files). The refusals are in `services.errors`.

This package re-exports their public names, and the errors, so callers keep writing
`from services import actions; actions.application_create(...)` and
`from services.actions import ServiceError`. Three reads that lived here before the split
(`application_form`, `application_answers`, `profile_prefill`) are selectors now; their old
names here are kept for the callers that still use them.
"""

from ..errors import InvalidInput, NotAllowed, ServiceError, WrongState
from ..selectors import application_answers, application_form, profile_prefill
from .applications import (
    MAX_ANSWERS_BYTES,
    application_correct_answers,
    application_create,
    application_section_mark,
    application_submit,
    application_update_answers,
    application_withdraw,
    request_routing,
)
from .attachments import application_page_save, attachment_upload, sniff_content_type
from .catalog import (
    FIELD_ATTRS,
    SERVICE_ATTRS,
    field_definition_save,
    service_create,
    service_update,
    service_version_draft,
    service_version_publish,
    service_version_update,
)
from .profile import personal_data_export_record, profile_update
from .representation import representation_grant, representation_revoke
from .retention import CLOSED_STATES, application_erase, erase_expired, rotate_attachments_batch

__all__ = [
    "CLOSED_STATES",
    "FIELD_ATTRS",
    "MAX_ANSWERS_BYTES",
    "SERVICE_ATTRS",
    "InvalidInput",
    "NotAllowed",
    "ServiceError",
    "WrongState",
    "application_answers",
    "application_correct_answers",
    "application_create",
    "application_erase",
    "application_form",
    "application_page_save",
    "application_section_mark",
    "application_submit",
    "application_update_answers",
    "application_withdraw",
    "attachment_upload",
    "erase_expired",
    "field_definition_save",
    "personal_data_export_record",
    "profile_prefill",
    "profile_update",
    "representation_grant",
    "representation_revoke",
    "request_routing",
    "rotate_attachments_batch",
    "service_create",
    "service_update",
    "service_version_draft",
    "service_version_publish",
    "service_version_update",
    "sniff_content_type",
]
