from django.urls import path

from . import api, service_account_api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("me/tokens/", api.TokenListApi.as_view(), name="api-me-tokens"),
    path("me/tokens/<int:token_id>/", api.TokenDetailApi.as_view(), name="api-me-token"),
    path("departments/", api.DepartmentListApi.as_view(), name="api-departments"),
    path(
        "service-accounts/",
        service_account_api.ServiceAccountListApi.as_view(),
        name="api-service-accounts",
    ),
    path(
        "service-accounts/<int:pk>/",
        service_account_api.ServiceAccountDetailApi.as_view(),
        name="api-service-account",
    ),
    path(
        "service-accounts/<int:pk>/deactivate/",
        service_account_api.ServiceAccountDeactivateApi.as_view(),
        name="api-service-account-deactivate",
    ),
    path(
        "service-accounts/<int:pk>/tokens/",
        service_account_api.ServiceTokenListApi.as_view(),
        name="api-service-account-tokens",
    ),
    path(
        "service-accounts/<int:pk>/tokens/<int:token_id>/",
        service_account_api.ServiceTokenDetailApi.as_view(),
        name="api-service-account-token",
    ),
    path(
        "service-accounts/<int:pk>/tokens/<int:token_id>/rotate/",
        service_account_api.ServiceTokenRotateApi.as_view(),
        name="api-service-account-token-rotate",
    ),
]
