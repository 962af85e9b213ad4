from django.urls import path

from . import representatives, views

app_name = "services"

urlpatterns = [
    path("services/", views.catalog, name="catalog"),
    path("profile/", views.profile, name="profile"),
    path("me/export.json", views.my_data, name="my-data"),
    path("me/representing/", representatives.represented, name="represented"),
    path("applications/<str:reference>/erase/", views.application_erase, name="application-erase"),
    path("applications/<str:reference>/", views.application_detail, name="application-detail"),
    path(
        "applications/<str:reference>/form/",
        views.application_first_page,
        name="application-first-page",
    ),
    path(
        "applications/<str:reference>/form/<slug:section>/",
        views.application_page,
        name="application-page",
    ),
    path("applications/<str:reference>/tasks/", views.application_tasks, name="application-tasks"),
    path(
        "applications/<str:reference>/review/", views.application_review, name="application-review"
    ),
    path(
        "applications/<str:reference>/confirmation/",
        views.application_confirmation,
        name="application-confirmation",
    ),
    path(
        "applications/<str:reference>/answers/",
        views.application_submitted_answers,
        name="application-answers",
    ),
    path(
        "applications/<str:reference>/withdraw/",
        views.application_withdraw,
        name="application-withdraw",
    ),
    path(
        "applications/<str:reference>/files/<str:token>/",
        views.attachment_download,
        name="attachment-download",
    ),
    path(
        "applications/<str:reference>/representatives/",
        representatives.representative_grant,
        name="representative-grant",
    ),
    path(
        "applications/<str:reference>/representatives/<int:pk>/revoke/",
        representatives.representative_revoke,
        name="representative-revoke",
    ),
]
