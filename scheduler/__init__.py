"""The always-on daemon: APScheduler jobs that start one crawl process per site run.

- ``jobs``: a site's schedule as an APScheduler trigger; reconciling the persisted
  jobs with the config; the job function the scheduler calls.
- ``worker``: one crawl child process per run, its timeout, and what its end means.
- ``metrics`` / ``health``: Prometheus counters and the ``/healthz`` + ``/metrics`` server.
- ``daemon``: start-up, signals and shutdown.

This package imports ``archive`` (and starts ``speech-archive crawl`` processes),
never the command line.
"""
