"""Adapters that take alerts out of flylogs: a shell command per alert, a webhook."""
