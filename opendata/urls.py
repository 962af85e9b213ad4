"""Pages of opendata."""

app_name = "opendata"

urlpatterns: list = []
