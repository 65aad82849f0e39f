"""A fake of Fly's Machines API on loopback, from ../shared/docs/fly-log-stream.md: `GET /v1/apps/<app>`
answers the app's org slug and network; `GET /v1/apps/<app>/machines` lists its Machines (id, name,
region, state, config.metadata.fly_process_group); unknown apps are 404; a wrong token is 401."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class FakeMachinesApi:
    def __init__(
        self,
        apps: dict[str, tuple[str, str]],
        token: str,
        machines: dict[str, dict[str, tuple[str, str]]] | None = None,
    ) -> None:
        self.apps = apps  # name -> (org slug, network)
        # app -> Machine id -> (region, state); change it while running: the next GET sees it
        self.machines = machines or {}
        self.failing = 0  # answer this many next requests with 503
        self.requests: list[tuple[str, str]] = []  # (path, Authorization)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                api.requests.append((self.path, auth))
                name = self.path.removeprefix("/v1/apps/")
                listing = name.endswith("/machines")
                name = name.removesuffix("/machines")
                if api.failing > 0:
                    api.failing -= 1
                    self._send(503, {"error": "unavailable"})
                elif auth not in (f"FlyV1 {token}", f"Bearer {token}"):
                    self._send(401, {"error": "unauthorized"})
                elif listing and name in api.machines:
                    self._send(200, [
                        {"id": mid, "name": f"m-{mid}", "region": region, "state": state,
                         "config": {"metadata": {"fly_process_group": "app"}}}
                        for mid, (region, state) in list(api.machines[name].items())
                    ])  # fmt: skip
                elif name not in api.apps:
                    self._send(404, {"error": "app not found"})
                else:
                    org, network = api.apps[name]
                    self._send(200, {"name": name, "network": network, "status": "deployed",
                                     "organization": {"name": org.title(), "slug": org}})  # fmt: skip

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def __enter__(self) -> FakeMachinesApi:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
