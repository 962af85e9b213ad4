from django.urls import path

from . import service_account_views as sa_views
from . import views

urlpatterns = [
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("me/tokens/", views.tokens, name="tokens"),
    path("me/tokens/revoke-all/", views.tokens_revoke_all, name="tokens-revoke-all"),
    path("me/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("service-accounts/", sa_views.service_accounts, name="service-accounts"),
    path("service-accounts/<int:pk>/", sa_views.service_account, name="service-account"),
    path(
        "service-accounts/<int:pk>/tokens/",
        sa_views.service_token_issue,
        name="service-account-tokens",
    ),
    path(
        "service-accounts/<int:pk>/tokens/revoke-all/",
        sa_views.service_tokens_revoke_all,
        name="service-account-tokens-revoke-all",
    ),
    path(
        "service-accounts/<int:pk>/tokens/<int:token_id>/rotate/",
        sa_views.service_token_rotate,
        name="service-account-token-rotate",
    ),
    path(
        "service-accounts/<int:pk>/tokens/<int:token_id>/revoke/",
        sa_views.service_token_revoke,
        name="service-account-token-revoke",
    ),
    path(
        "service-accounts/<int:pk>/deactivate/",
        sa_views.service_account_deactivate,
        name="service-account-deactivate",
    ),
]
