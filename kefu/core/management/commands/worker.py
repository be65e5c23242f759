"""`kefu worker`: django-tasks-db's db_worker with Kefu's worker, which survives database errors
(kefu.core.worker). Same options as `kefu db_worker`; give a stable --worker-id (kefu start does)
so a restarted worker re-queues the task its killed predecessor was running."""

from django_tasks_db.management.commands import db_worker

from kefu.core.worker import KefuWorker


class Command(db_worker.Command):
    help = "Run the task worker (survives database errors; re-queues interrupted tasks of its worker id)"

    def handle(self, *args, **options):
        # db_worker's handle() builds `Worker(...)` from its module; hand it ours for this run.
        original, db_worker.Worker = db_worker.Worker, KefuWorker
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = original
