from django.urls import path

from . import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("me/tokens/", api.TokenListApi.as_view(), name="api-me-tokens"),
    path("me/tokens/<int:token_id>/", api.TokenDetailApi.as_view(), name="api-me-token"),
    path("departments/", api.DepartmentListApi.as_view(), name="api-departments"),
]
