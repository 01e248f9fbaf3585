"""The one engine: runner, reconciliation, recordings, intake, recovery."""
