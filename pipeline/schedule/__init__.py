"""Scheduled jobs: ``schedule.toml`` → validated job specs → an APScheduler service.

The pieces, each with one job:

- :mod:`~pipeline.schedule.config` loads ``schedule.toml``: :mod:`~pipeline.schedule.reader` checks
  every key before anything starts and :mod:`~pipeline.schedule.spec` holds the result as data;
- :mod:`~pipeline.schedule.registry` maps job kinds to the same functions the CLI runs;
- :mod:`~pipeline.schedule.execution` runs one job, timing and logging it (scheduler and
  ``python -m pipeline run`` both go through it);
- :mod:`~pipeline.schedule.history` is the run history and each job's last fire time (the SQL is
  in ``pipeline/stores/sqlite|postgres/history.py``);
- :mod:`~pipeline.schedule.catchup` decides what to do about runs missed while nothing was running;
- :mod:`~pipeline.schedule.lock` makes sure only one scheduler uses a state folder (SQLite), and
  :mod:`~pipeline.schedule.failover` that one replica is active among several (PostgreSQL);
- :mod:`~pipeline.schedule.runner` wires it all into APScheduler 3.x with signal handling, with
  :mod:`~pipeline.schedule.fire_times` (which fire time a run is for) and
  :mod:`~pipeline.schedule.logs` (one line per event).
"""
