from django.db import models

from kefu.core.models import Shop


class ImportRun(models.Model):
    """One `kefu import` of one file: what it has written so far, so an interrupted run is finished
    by running the same command again (kefu.importers.services.file_import).

    Rows are written in short transactions of `BATCH` rows; each one moves `rows_done` and the
    counts in the same transaction as the rows, so the record is exact after any crash. A run is
    known by the shop, kind, format, options and the file's SHA-256.
    """

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20)
    fmt = models.CharField(max_length=20)
    options = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    rows_total = models.PositiveIntegerField()
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # host:pid of the process writing it, and when it last wrote: a run whose process is gone (or
    # silent for RESUME_AFTER seconds) is taken over by the next import of the same file
    owner = models.CharField(max_length=120)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "file_sha256", "state"])]

    def __str__(self):
        return f"{self.kind} {self.file_name} {self.rows_done}/{self.rows_total} ({self.state})"
