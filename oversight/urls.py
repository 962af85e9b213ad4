"""Pages of oversight."""

app_name = "oversight"

urlpatterns: list = []
