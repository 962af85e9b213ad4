from django.urls import path

from . import views

urlpatterns = [
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("me/tokens/", views.tokens, name="tokens"),
    path("me/tokens/revoke-all/", views.tokens_revoke_all, name="tokens-revoke-all"),
    path("me/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
]
