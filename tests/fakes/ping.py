"""A fake of a healthchecks.io check's ping endpoint (https://healthchecks.io/docs/http_api/):
`GET /<uuid>` is a success signal, `GET /<uuid>/fail` a failure signal; both answer 200 "OK"; an
unknown uuid answers 404 "not found". POST is accepted the same way."""

from __future__ import annotations

import time

from tests.fakes.http import JsonHandler, serve


class FakePings:
    def __init__(self, uuid: str = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278") -> None:
        self.uuid = uuid
        self.pings: list[tuple[float, str]] = []  # (monotonic time, "ok" or "fail")
        pings = self

        class Handler(JsonHandler):
            def _signal(self) -> None:
                path = self.path.split("?", 1)[0].rstrip("/")
                kind = {f"/{pings.uuid}": "ok", f"/{pings.uuid}/fail": "fail"}.get(path)
                body = b"OK" if kind else b"not found"
                if kind:
                    pings.pings.append((time.monotonic(), kind))
                self.send_response(200 if kind else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _signal

        self.server, base = serve(Handler)
        self.url = f"{base}/{uuid}"

    def kinds(self) -> list[str]:
        return [kind for _, kind in self.pings]

    def __enter__(self) -> FakePings:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
