"""A TCP proxy in front of a real nats-server that tests can freeze at chosen moments.

Frozen, it keeps every socket open and passes no byte either way: a half-open path, as a dead
WireGuard peer or a stalled NAT looks. `freeze_on(b"SUB ", connection=2)` freezes the moment the
client's Nth connection sends that pattern (the chunk holding it still passes, so the server has
it), for faults in the middle of a handshake or a resubscription.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class Proxy:
    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._trigger: tuple[bytes, int] | None = None
        self.connections = 0
        self.from_client = bytearray()  # every byte the client sent, for tests of what went out
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def frozen(self) -> bool:
        return not self._flowing.is_set()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def freeze_on(self, pattern: bytes, connection: int) -> None:
        """Freeze once the client's `connection`-th connection (1-based) sends `pattern`."""
        self._trigger = (pattern, connection)

    def cut(self) -> None:
        """Close every open connection (new ones are still accepted)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        self._listener.close()
        self.cut()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
                number = self.connections
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, number), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, number: int | None) -> None:
        seen = b""
        try:
            while True:
                self._flowing.wait()
                chunk = source.recv(65536)
                if not chunk:
                    break
                self._flowing.wait()  # frozen while this chunk was on its way: hold it
                sink.sendall(chunk)
                if number is not None:
                    self.from_client += chunk
                trigger = self._trigger
                if number is not None and trigger is not None and trigger[1] == number:
                    seen = (seen + chunk)[-4096:]
                    if trigger[0] in seen:
                        self._trigger = None
                        self.freeze()
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
