from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.search, name="search"),
    path("audit/export.csv", views.export_csv, name="export"),
    path("audit/applications/<str:reference>/", views.application_history, name="history"),
    path("me/data-access/", views.data_access, name="data-access"),
]
