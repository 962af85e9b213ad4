from django.urls import path

from . import views

app_name = "workflows"

urlpatterns = [
    path("workbench/", views.inbox, name="inbox"),
    path("workbench/search/", views.inbox_search, name="inbox-search"),
    path("workbench/cases/<str:reference>/", views.case_detail, name="case"),
    path("workbench/cases/<str:reference>/files/<str:token>/", views.case_file, name="case-file"),
    path("workbench/cases/<str:reference>/<slug:action>/", views.case_action, name="case-action"),
]
