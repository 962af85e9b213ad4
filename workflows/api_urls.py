from django.urls import path

from . import api, citizen, consultation_api, delegation_api

urlpatterns = [
    path(
        "applications/<str:reference>/reply/",
        citizen.ApplicationReplyApi.as_view(),
        name="api-application-reply",
    ),
    path("cases/", api.CaseListApi.as_view(), name="api-cases"),
    # Before `cases/<reference>/`, which would take "search" for a reference.
    path("cases/search/", api.CaseSearchApi.as_view(), name="api-cases-search"),
    path(
        "cases/consulted/", consultation_api.ConsultedListApi.as_view(), name="api-cases-consulted"
    ),
    path("cases/<str:reference>/", api.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<str:reference>/claim/", api.CaseClaimApi.as_view(), name="api-case-claim"),
    path("cases/<str:reference>/release/", api.CaseReleaseApi.as_view(), name="api-case-release"),
    path(
        "cases/<str:reference>/request-info/",
        api.CaseRequestInfoApi.as_view(),
        name="api-case-request-info",
    ),
    path("cases/<str:reference>/approve/", api.CaseApproveApi.as_view(), name="api-case-approve"),
    path("cases/<str:reference>/reject/", api.CaseRejectApi.as_view(), name="api-case-reject"),
    path("cases/<str:reference>/reveal/", api.CaseRevealApi.as_view(), name="api-case-reveal"),
    path("cases/<str:reference>/notes/", api.CaseNoteApi.as_view(), name="api-case-notes"),
    path("cases/<str:reference>/assign/", api.CaseAssignApi.as_view(), name="api-case-assign"),
    path(
        "cases/<str:reference>/share/",
        consultation_api.CaseShareApi.as_view(),
        name="api-case-share",
    ),
    path(
        "cases/<str:reference>/consultations/<int:pk>/revoke/",
        consultation_api.CaseShareRevokeApi.as_view(),
        name="api-case-share-revoke",
    ),
    path(
        "cases/<str:reference>/opinions/",
        consultation_api.CaseOpinionApi.as_view(),
        name="api-case-opinions",
    ),
    path("delegations/", delegation_api.DelegationListApi.as_view(), name="api-delegations"),
    path(
        "delegations/<int:delegation_id>/revoke/",
        delegation_api.DelegationRevokeApi.as_view(),
        name="api-delegation-revoke",
    ),
]
