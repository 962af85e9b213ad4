"""The Procfile contract: web (gunicorn on $PORT), worker (every queue) and beat."""

from pathlib import Path

from django.conf import settings
from honcho.environ import parse_procfile

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


def test_procfile_has_web_worker_and_beat():
    processes = parse_procfile(PROCFILE.read_text()).processes
    assert set(processes) == {"web", "worker", "beat"}
    assert processes["web"].startswith("gunicorn config.wsgi") and "$PORT" in processes[
        "web"
    ].replace("{", "")
    assert processes["worker"].startswith("celery -A config worker")
    assert processes["beat"].startswith("celery -A config beat")


def test_worker_consumes_every_queue_unless_told_otherwise():
    worker = parse_procfile(PROCFILE.read_text()).processes["worker"]
    # Without --queues a Celery worker consumes every queue in CELERY_TASK_QUEUES.
    assert "--queues" not in worker.split("${WORKER_QUEUES:+")[0]
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == {
        "routing",
        "notifications",
        "maintenance",
    }
