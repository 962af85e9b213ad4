"""API of oversight."""

urlpatterns: list = []
