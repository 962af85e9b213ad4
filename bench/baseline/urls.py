"""The portal's URLs plus the bare-stack baseline endpoints under /bench/ (bench settings only)."""

from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as portal_urlpatterns

from . import views

urlpatterns = [
    path("bench/notes/", views.NoteCreate.as_view(), name="bench-note-create"),
    path("bench/ping/", views.ping, name="bench-ping"),
    path("bench/cases/", views.CasePage.as_view(), name="bench-case-page"),
    path("bench/summary/", views.SummaryRow.as_view(), name="bench-summary-row"),
    *portal_urlpatterns,
]
