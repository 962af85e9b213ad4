from django.urls import path

from . import api

urlpatterns = [
    path("services/", api.ServiceListApi.as_view(), name="api-services"),
    path("applications/", api.ApplicationListCreateApi.as_view(), name="api-applications"),
    path(
        "applications/<str:reference>/", api.ApplicationDetailApi.as_view(), name="api-application"
    ),
    path(
        "applications/<str:reference>/submit/",
        api.ApplicationSubmitApi.as_view(),
        name="api-application-submit",
    ),
    path(
        "applications/<str:reference>/withdraw/",
        api.ApplicationWithdrawApi.as_view(),
        name="api-application-withdraw",
    ),
    path(
        "applications/<str:reference>/attachments/",
        api.AttachmentUploadApi.as_view(),
        name="api-application-attachments",
    ),
    path(
        "applications/<str:reference>/erase/",
        api.ApplicationEraseApi.as_view(),
        name="api-application-erase",
    ),
    path(
        "applications/<str:reference>/representatives/",
        api.RepresentativesApi.as_view(),
        name="api-application-representatives",
    ),
    path(
        "applications/<str:reference>/representatives/<int:pk>/revoke/",
        api.RepresentativeRevokeApi.as_view(),
        name="api-application-representative-revoke",
    ),
    path("me/export/", api.MyDataExportApi.as_view(), name="api-my-data"),
    path("me/profile/", api.ProfileApi.as_view(), name="api-profile"),
]
