"""The application layer: what a run of Retain does, between the domains and the faces.

``schema <- ingest, warehouse <- analytics (metrics, clv, health, models, conversations, state) <- jobs <- server,
faces (cli, api, web)``. A job here orchestrates domain functions (compute, store, read back) and returns a small
typed result; it never prints and never imports a face. The faces parse input, call a job and render its result,
so the command line, the dashboard, the API, the benchmarks and the tests run the same code.

- :mod:`retain.jobs.main`: the main job (``retain run``, ``make demo``), its sections in a fixed order, degrade
  never abort.
- :mod:`retain.jobs.status`, :mod:`~retain.jobs.retention`, :mod:`~retain.jobs.health`,
  :mod:`~retain.jobs.prediction`, :mod:`~retain.jobs.value`, :mod:`~retain.jobs.calls`: one section each, and the
  compute-and-store steps their commands share (scoring and the backfill policy, CLV with its notes).
- :mod:`retain.jobs.publish`: the application database (open and migrate), publishing snapshots, the demo's users.
"""
