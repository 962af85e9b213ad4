"""Pages of oversight."""

from django.urls import path

from . import views

app_name = "oversight"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/charts/<slug:name>.svg", views.chart, name="chart"),
    path("dashboard/<slug:name>.csv", views.export_csv, name="export"),
]
