"""API of the catalog and of the citizen's applications."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, paginated

from . import actions, catalog, hooks, masking, permissions, selectors
from .answers import is_sealed_field
from .constants import ApplicationStatus
from .models import Application
from .schema import MergedField, form_schema
from .serializers import (
    AnswersInput,
    ApplicationCreateInput,
    ApplicationDetailOutput,
    ApplicationListOutput,
    AttachmentInput,
    AttachmentOutput,
    ProfileInput,
    ProfileOutput,
    RepresentativeInput,
    RepresentativeOutput,
    ServiceOutput,
    StatusOutput,
)
from .views import application_with_access


def _list_data(application: Application, versions: list | None = None) -> dict:
    if versions is None:
        versions = selectors.application_versions(application)
    return {
        "reference": application.reference,
        "status": application.status,
        "services": [v.service.slug for v in versions],
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
    }


def _masked(answers: dict) -> dict:
    """Answers with their personal values masked, as a representative reads them."""
    catalogue = selectors.dictionary()
    return {
        k: masking.mask(d, v)
        if v is not None and (d := catalogue.get(k)) is not None and is_sealed_field(d)
        else v
        for k, v in answers.items()
    }


def detail_data(
    application: Application,
    versions: list | None = None,
    *,
    created: bool = False,
    masked: bool = False,
) -> dict:
    """The detail of an application; `versions` (with their services) when the caller has
    them already, as the create endpoint does (`created`: a new draft, with no files yet);
    `masked`: personal values masked (a representative's read)."""
    if versions is None:
        versions = selectors.application_versions(application)
    else:
        versions = sorted(versions, key=lambda v: v.service.slug)
    # Cases (and so questions) exist only once the engine has routed a submitted application.
    draft = application.status == ApplicationStatus.DRAFT
    cases, questions = ([], []) if draft else hooks.parts_of(application)
    receipt_url, letters = hooks.documents_of(application, cases)
    return {
        **_list_data(application, versions),
        "withdrawn_at": application.withdrawn_at,
        "receipt_url": receipt_url,
        "answers": _masked(selectors.application_answers(application))
        if masked
        else selectors.application_answers(application),
        "form": catalog.current().schema(versions),
        "attachments": []
        if created
        else [AttachmentOutput(a).data for a in application.attachments.all()],
        "cases": [
            {
                "reference": c.reference,
                "department": c.department.slug,
                "department_name": c.department.name_translated,
                "service": c.version.service.slug,
                "step": c.step,
                "step_name": c.step_name_translated,
                "status": c.status,
                "due_at": c.due_at,
                "letter_url": letters.get(c.reference),
            }
            for c in cases
        ],
        "information_requests": [
            {
                "case": r.case.reference,
                "department": r.case.department.slug,
                "department_name": r.case.department.name_translated,
                "message": r.message_plain,
                "asked_at": r.asked_at,
                "fields": r.case.fields,
            }
            for r in questions
        ],
    }


def own_application(request: Request, reference: str, *, for_update: bool = False) -> Application:
    if "\x00" in reference:  # PostgreSQL refuses NUL in a query parameter (a 500, not a 404)
        raise Http404
    application = selectors.application_of_citizen(
        user=request.user, reference=reference, for_update=for_update
    )
    if application is None:
        raise Http404
    return application


class ServiceListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search in names and descriptions")
        ],
        responses=ServiceOutput(many=True),
        summary="The catalog, each service with the JSON Schema of its form",
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "")[:100].replace("\x00", "")  # PostgreSQL: no NUL
        services = selectors.services_published(query=query)

        def present(page: list) -> list:
            fields_by_key = selectors.dictionary()
            data = [selectors.catalog_entry(service=s, fields_by_key=fields_by_key) for s in page]
            return ServiceOutput(data, many=True).data

        return paginated(self, services, present)


class ApplicationListCreateApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses=ApplicationListOutput(many=True), summary="Your applications")
    def get(self, request: Request) -> Response:
        return paginated(
            self,
            selectors.applications_for_citizen(user=request.user),
            lambda page: ApplicationListOutput([_list_data(a) for a in page], many=True).data,
        )

    @extend_schema(
        request=ApplicationCreateInput,
        responses={201: ApplicationDetailOutput},
        summary="Start a draft",
    )
    def post(self, request: Request) -> Response:
        payload = ApplicationCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        versions = selectors.versions_to_apply_for(slugs=payload.validated_data["services"])
        application = actions.application_create(
            citizen=request.user, versions=versions, answers=payload.validated_data["answers"]
        )
        return Response(
            ApplicationDetailOutput(detail_data(application, versions, created=True)).data,
            status=status.HTTP_201_CREATED,
        )


class ApplicationDetailApi(APIView):
    may_conflict = True

    @extend_schema(
        responses=ApplicationDetailOutput,
        summary="One of your applications, or one you act on for its applicant",
    )
    def get(self, request: Request, reference: str) -> Response:
        application, access = application_with_access(request, reference)
        data = detail_data(application, masked=not access.is_owner)
        return Response(ApplicationDetailOutput(data).data)

    @extend_schema(
        request=AnswersInput, responses=ApplicationDetailOutput, summary="Save answers of a draft"
    )
    def patch(self, request: Request, reference: str) -> Response:
        application, _access = application_with_access(request, reference, permissions.EDIT)
        payload = AnswersInput(data=request.data)
        payload.is_valid(raise_exception=True)
        application = actions.application_update_answers(
            application=application,
            actor=request.user,
            answers=payload.validated_data["answers"],
        )
        return Response(ApplicationDetailOutput(detail_data(application)).data)


class _ApplicationStatusApi(APIView):
    """A POST that moves an own application with one action (`move`; DRF reserves `action`)
    and answers its new status."""

    may_conflict = True
    move: staticmethod
    need: str = permissions.EDIT  # the owner's alone unless a representative may be given it

    def post(self, request: Request, reference: str) -> Response:
        # One query finds the application and locks it for the action; one more reads the
        # asker's grants when they are not its owner.
        with transaction.atomic():
            application, _access = application_with_access(
                request, reference, self.need, for_update=True
            )
            application = self.move(application=application, actor=request.user)
        return Response(StatusOutput(application).data)


class ApplicationSubmitApi(_ApplicationStatusApi):
    move = staticmethod(actions.application_submit)

    @extend_schema(request=None, responses=StatusOutput, summary="Validate and submit")
    def post(self, request: Request, reference: str) -> Response:
        return super().post(request, reference)


class ApplicationWithdrawApi(_ApplicationStatusApi):
    move = staticmethod(actions.application_withdraw)
    need = permissions.WITHDRAW

    @extend_schema(request=None, responses=StatusOutput, summary="Withdraw")
    def post(self, request: Request, reference: str) -> Response:
        return super().post(request, reference)


class AttachmentUploadApi(APIView):
    parser_classes = [MultiPartParser]
    may_conflict = True

    @extend_schema(
        request=AttachmentInput,
        responses={201: AttachmentOutput},
        summary="Upload a file for a file field",
    )
    def post(self, request: Request, reference: str) -> Response:
        # The owner (a draft), or a representative uploading a file a department asked for.
        application, _access = application_with_access(request, reference, permissions.ACT)
        payload = AttachmentInput(data=request.data)
        payload.is_valid(raise_exception=True)
        attachment = actions.attachment_upload(
            application=application,
            actor=request.user,
            field_key=payload.validated_data["field"],
            upload=payload.validated_data["file"],
        )
        return Response(AttachmentOutput(attachment).data, status=status.HTTP_201_CREATED)


class ProfileApi(APIView):
    def _data(self, request: Request) -> dict:
        merged = [
            MergedField(definition=f) for f in selectors.dictionary().values() if f.profile_field
        ]
        return {
            "facts": selectors.profile_facts(user=request.user),
            "form": form_schema(merged, partial=True),
        }

    @extend_schema(
        responses=ProfileOutput, summary="Your profile: the stable facts used to prefill forms"
    )
    def get(self, request: Request) -> Response:
        return Response(ProfileOutput(self._data(request)).data)

    @extend_schema(request=ProfileInput, responses=ProfileOutput, summary="Change your profile")
    def patch(self, request: Request) -> Response:
        payload = ProfileInput(data=request.data)
        payload.is_valid(raise_exception=True)
        actions.profile_update(user=request.user, facts=payload.validated_data["facts"])
        return Response(ProfileOutput(self._data(request)).data)


class MyDataExportApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Download everything the portal holds about you (JSON)",
    )
    def get(self, request: Request) -> Response:
        actions.personal_data_export_record(user=request.user)
        return Response(selectors.personal_data_export(user=request.user))


class ApplicationEraseApi(APIView):
    may_conflict = True

    @extend_schema(
        request=None, responses=StatusOutput, summary="Erase a closed application's personal data"
    )
    def post(self, request: Request, reference: str) -> Response:
        application, _access = application_with_access(request, reference, permissions.ERASE)
        application = actions.application_erase(
            application=application,
            actor=request.user,
            reason="citizen request",
        )
        return Response(StatusOutput(application).data)


def _representative_data(representation) -> dict:
    return {
        "id": representation.pk,
        "representative": representation.representative,
        "may_withdraw": representation.may_withdraw,
        "may_erase": representation.may_erase,
        "rights": []
        if representation.revoked_at
        else permissions.rights(
            may_withdraw=representation.may_withdraw, may_erase=representation.may_erase
        ),
        "created_at": representation.created_at,
        "revoked_at": representation.revoked_at,
    }


class RepresentativesApi(APIView):
    """The application's representatives: its owner lists and authorises them; a
    representative sees their own authorisation."""

    may_conflict = True

    @extend_schema(
        responses=RepresentativeOutput(many=True),
        summary="The application's representatives (ended authorisations too)",
    )
    def get(self, request: Request, reference: str) -> Response:
        application, access = application_with_access(request, reference)
        rows = selectors.representation_history(
            application, user=request.user, is_owner=access.is_owner
        )
        return Response(
            RepresentativeOutput([_representative_data(r) for r in rows], many=True).data
        )

    @extend_schema(
        request=RepresentativeInput,
        responses={201: RepresentativeOutput},
        summary="Authorise a citizen (email and national ID) to act on this application",
    )
    def post(self, request: Request, reference: str) -> Response:
        application, _access = application_with_access(request, reference, permissions.EDIT)
        payload = RepresentativeInput(data=request.data)
        payload.is_valid(raise_exception=True)
        representation = actions.representation_grant(
            application=application, actor=request.user, **payload.validated_data
        )
        return Response(
            RepresentativeOutput(_representative_data(representation)).data,
            status=status.HTTP_201_CREATED,
        )


class RepresentativeRevokeApi(APIView):
    may_conflict = True

    @extend_schema(
        request=None,
        responses=RepresentativeOutput,
        summary="Revoke an authorisation (the applicant), or step down (the representative)",
    )
    def post(self, request: Request, reference: str, pk: int) -> Response:
        application, _access = application_with_access(request, reference)
        representation = selectors.representation_of(
            application=application, pk=pk, user=request.user
        )
        if representation is None:
            raise Http404
        representation = actions.representation_revoke(
            representation=representation, actor=request.user
        )
        return Response(RepresentativeOutput(_representative_data(representation)).data)
