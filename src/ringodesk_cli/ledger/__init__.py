"""The state SQLite: schema and migrations, calls, operations, events, history."""
