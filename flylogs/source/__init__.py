"""Sources: one adapter per outside system that lines come from.

`nats` turns nats-py's callbacks into typed events (`flylogs.core.events`); `jetstream` and `flyapi`
read windows of history back. An adapter's job ends when the outside world's callbacks are events.
"""
