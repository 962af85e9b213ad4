"""URL configuration."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import errors, health

# The admin signs in through allauth (same rate limits, and MFA once staff must use it).
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Citizen portal administration"

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("services.api_urls")),
    path("", include("workflows.api_urls")),
    path("", include("audit.api_urls")),
]

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("services.urls")),
    path("", include("workflows.urls")),
    path("", include("audit.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
