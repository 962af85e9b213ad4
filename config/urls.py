"""URL configuration."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import errors
from services import urls as services_urls
from services import views as services_views
from workflows import urls as workflows_urls

from . import health

# The admin signs in through allauth (same rate limits, and MFA once staff must use it).
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("Citizen portal administration")
admin.site.site_title = _("Citizen portal")
admin.site.index_title = _("Administration")

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("services.api_urls")),
    path("", include("workflows.api_urls")),
    path("", include("audit.api_urls")),
    path("", include("oversight.api_urls")),
    path("", include("opendata.api_urls")),
    path("", include("integrations.api_urls")),
]

urlpatterns = [
    # The home page, different for each role (a citizen's lists their applications).
    path("", services_views.home, name="home"),
    path("", include("accounts.urls")),
    # The citizen's pages, including the reply to a department that the engine's app serves.
    path("", include((services_urls.urlpatterns + workflows_urls.citizen_urlpatterns, "services"))),
    path("", include("workflows.urls")),
    path("", include("audit.urls")),
    path("", include("receipts.urls")),
    path("", include("oversight.urls")),
    path("", include("opendata.urls")),
    path("", include("integrations.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
