"""API of opendata."""

from django.urls import path

from . import api

urlpatterns = [
    path("open-data/", api.ReleaseListApi.as_view(), name="api-opendata-releases"),
    path("open-data/keys/", api.PublicKeysApi.as_view(), name="api-opendata-keys"),
    path("open-data/publish/", api.ReleasePublishApi.as_view(), name="api-opendata-publish"),
    path("open-data/<int:version>/", api.ReleaseDetailApi.as_view(), name="api-opendata-release"),
]
