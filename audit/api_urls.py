from django.urls import path

from . import api

urlpatterns = [
    path("audit/events/", api.AuditEventListApi.as_view(), name="api-audit-events"),
    path("audit/verify/", api.AuditVerifyApi.as_view(), name="api-audit-verify"),
    path(
        "audit/verify/<int:job>/",
        api.AuditVerificationApi.as_view(),
        name="api-audit-verification",
    ),
    path(
        "audit/applications/<str:reference>/history/",
        api.ApplicationHistoryApi.as_view(),
        name="api-audit-history",
    ),
    path("me/data-access/", api.DataAccessApi.as_view(), name="api-data-access"),
]
