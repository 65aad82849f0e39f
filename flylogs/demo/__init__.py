"""`flylogs demo`: an embedded nats-server (`server`), a synthetic fleet (`fleet`), its publisher."""
