"""`ringodesk serve`: Ringostat's Webhooks 2.0 received live, stored, then delivered.

- ``webhook``: a request body (JSON or form) -> the ``CallRecord`` the calls/list reader
  builds, or the reason it is not a call (422).
- ``inbox``: a webhook's record into the ledger (the same triage as ``sync``), committed
  before the answer; the before events that still wait for the before-call step.
- ``worker``: the delivery loop (its own process): each stored call through the one engine.
- ``supervisor``: starts the worker's process, restarts it when it dies, stops it.
- ``log_lines``: the log format (escaped values); ``connections``: a request must arrive in time.
- ``before_call``: ``integration.create_records = "before-call"``: contact and ticket at the
  before event.
- ``app``: the HTTP routes (webhook, health); ``server``: uvicorn, the locks, SIGTERM.
- ``setup``: the webhook secret and what to type into Ringostat's form.
- ``rehearsal``: `ringodesk demo`'s few calls arriving live.
"""
