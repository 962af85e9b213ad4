from django.urls import path

from . import citizen, consultation_views, delegation_views, views

app_name = "workflows"

urlpatterns = [
    path("workbench/", views.inbox, name="inbox"),
    path("workbench/search/", views.inbox_search, name="inbox-search"),
    path("workbench/consulted/", consultation_views.consulted, name="consulted"),
    path("workbench/delegations/", delegation_views.delegations, name="delegations"),
    path(
        "workbench/delegations/<int:delegation_id>/revoke/",
        delegation_views.delegation_revoke,
        name="delegation-revoke",
    ),
    path("workbench/cases/<str:reference>/", views.case_detail, name="case"),
    path("workbench/cases/<str:reference>/files/<str:token>/", views.case_file, name="case-file"),
    path("workbench/cases/<str:reference>/reject/", views.case_reject, name="case-reject"),
    # Consultations: before the catch-all of the decisions below.
    path(
        "workbench/cases/<str:reference>/share/",
        consultation_views.case_share,
        name="case-share",
    ),
    path(
        "workbench/cases/<str:reference>/consultations/<int:pk>/revoke/",
        consultation_views.case_share_revoke,
        name="case-share-revoke",
    ),
    path(
        "workbench/cases/<str:reference>/opinion/",
        consultation_views.case_opinion,
        name="case-opinion",
    ),
    path("workbench/cases/<str:reference>/<slug:action>/", views.case_action, name="case-action"),
]

# The citizen's answer to a department's question, under the application's page (the
# `services` namespace, where the citizen's other pages are; config/urls.py mounts it there).
citizen_urlpatterns = [
    path(
        "applications/<str:reference>/cases/<str:case_reference>/reply/",
        citizen.application_reply,
        name="application-reply",
    ),
]
