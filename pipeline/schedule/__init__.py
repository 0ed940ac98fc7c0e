"""Scheduled jobs: ``schedule.toml`` → validated job specs → an APScheduler service.

The pieces, each with one job:

- :mod:`~pipeline.schedule.config` reads and validates ``schedule.toml`` before anything starts;
- :mod:`~pipeline.schedule.registry` maps job kinds to the same functions the CLI runs;
- :mod:`~pipeline.schedule.execution` runs one job, timing and logging it (scheduler and
  ``python -m pipeline run`` both go through it);
- :mod:`~pipeline.schedule.history` keeps the run history and each job's last fire time in the
  state database;
- :mod:`~pipeline.schedule.catchup` decides what to do about runs missed while nothing was running;
- :mod:`~pipeline.schedule.lock` makes sure only one scheduler uses a state folder;
- :mod:`~pipeline.schedule.runner` wires it all into APScheduler 3.x with signal handling.
"""
