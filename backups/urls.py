"""Pages of backups."""

app_name = "backups"

urlpatterns: list = []
