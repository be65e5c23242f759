"""The task worker that outlives database trouble.

django-tasks-db's worker records a task's failure, but an error of the database itself (SQLite
"database is locked" past the busy timeout, a dropped PostgreSQL connection) while it claims a task
or records a result ends the process. This worker logs it, waits (1 s, doubling up to 30 s) and goes
on. A task it was running when that happened — or when a previous process with the same worker id
was killed — is put back in the queue (at most `MAX_ATTEMPTS` runs in all), or failed after that.
"""

import logging
import time

from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

log = logging.getLogger("kefu.worker")

MAX_ATTEMPTS = 3
INTERRUPTED = "kefu.core.worker.Interrupted"


class KefuWorker(Worker):
    max_backoff = 30.0

    def run(self) -> None:
        delay = 1.0
        while self.running:
            try:
                self.recover()
                super().run()
                return  # --batch / --max-tasks finished
            except DatabaseError as exc:
                log.error("worker %s: database error (%s); retrying in %.0f s", self.worker_id,
                          str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, delay)
                connections.close_all()  # a fresh connection next round
                time.sleep(delay)
                delay = min(delay * 2, self.max_backoff)

    def recover(self) -> int:
        """Tasks left RUNNING by this worker id (this process before an error, or a killed
        predecessor with the same id): queue them again, or fail them after MAX_ATTEMPTS runs."""
        close_old_connections()
        moved = 0
        for task in DBTaskResult.objects.running().filter(backend_name=self.backend_name):
            if not task.worker_ids or task.worker_ids[-1] != self.worker_id:
                continue
            if len(task.worker_ids) < MAX_ATTEMPTS:
                task.status, task.started_at = TaskResultStatus.READY, None
                task.save(update_fields=["status", "started_at"])
                log.warning("task %s (%s) was interrupted; queued again (run %d of at most %d)", task.id,
                            task.task_path, len(task.worker_ids), MAX_ATTEMPTS)
            else:
                task.status, task.finished_at = TaskResultStatus.FAILED, timezone.now()
                task.exception_class_path = INTERRUPTED
                task.traceback = f"interrupted {len(task.worker_ids)} times (worker died or lost the database)"
                task.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
                log.error("task %s (%s) was interrupted %d times; marked failed", task.id, task.task_path,
                          len(task.worker_ids))
            moved += 1
        return moved
