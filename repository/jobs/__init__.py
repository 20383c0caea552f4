"""Background jobs: long work (imports, OCR, reindexing, harvests, embargo releases) off the request path.

``queue`` keeps the jobs in the catalogue's database and hands them out with leases; ``kinds``
says what each kind of job runs; ``worker`` is ``kutubxona worker``, which claims jobs one at a
time, keeps its lease alive while one runs, and records how it ended; ``schedules`` queues the
jobs that come back; ``dispatch`` queues a job and announces it to a broker when there is one,
and ``celery_runner`` is the Celery worker that takes jobs from it.
"""
