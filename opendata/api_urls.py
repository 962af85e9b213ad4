"""API of opendata."""

urlpatterns: list = []
