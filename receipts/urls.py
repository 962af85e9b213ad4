from django.urls import path

from . import views

app_name = "receipts"

urlpatterns = [
    path("applications/<str:reference>/receipt.pdf", views.receipt_pdf, name="receipt"),
    path(
        "applications/<str:reference>/decisions/<str:case>.pdf",
        views.letter_pdf,
        name="letter",
    ),
    path("verify/", views.verify, name="verify"),
    path("verify/<str:code>", views.verify_code, name="verify-code"),
]
