"""flylogs: live-tail Fly.io logs from the NATS log stream.

The package is a pure core (model, decode, subjects, filters, settings) with one adapter per outside
system (stream: NATS, credentials: keyring, render: the terminal) under a thin Typer shell (cli).
"""

__version__ = "0.1.0"
