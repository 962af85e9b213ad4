"""Pages of opendata."""

from django.urls import path

from . import views

app_name = "opendata"

urlpatterns = [
    path("open-data/", views.release_list, name="list"),
    path("open-data/<int:version>/", views.release_detail, name="detail"),
    path("open-data/<int:version>.json", views.release_json, name="json"),
    path("open-data/<int:version>.csv", views.release_csv, name="csv"),
]
