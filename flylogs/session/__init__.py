"""The async session: drives sources → core → sink, and owns flushing, backpressure and backfill tasks.

`run.run_tail` wires one session; `driver` moves events and outputs; `backpressure` and `backfill`
are the two things only an event loop can do beside it; `plan` says what to do and how it ended.
"""
