"""A tiny OpenAI-compatible chat-completions server for tests (http.server on loopback, in a thread).

`replies` maps a request's last user message to the assistant text; `faults` is a list consumed one per
request before normal answers: "429", "500", "malformed" (a 200 whose body is not JSON), "hang" (sleeps past
any client timeout), "404".
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator


class FakeServer:
    def __init__(self, reply: Callable[[str], str], faults=(), model: str = "fake-judge"):
        self.reply, self.faults, self.model = reply, list(faults), model
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def next_fault(self) -> str | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None


def _handler(server: FakeServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: bytes, headers=()):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

        def do_GET(self):
            if self.path.endswith("/models"):
                body = {"object": "list", "data": [{"id": server.model, "object": "model", "owned_by": "test"}]}
                return self._send(200, json.dumps(body).encode())
            self._send(404, b'{"error": {"message": "not found"}}')

        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with server.lock:
                server.requests.append(request)
            fault = server.next_fault()
            if fault == "hang":
                time.sleep(1.5)
                return self._send(200, b"{}")
            if fault in ("429", "500", "404"):
                return self._send(int(fault), json.dumps({"error": {"message": f"fault {fault}"}}).encode(),
                                  [("Retry-After", "0")] if fault == "429" else [])
            if fault == "malformed":
                return self._send(200, b'{"choices": [ this is not json')
            text = server.reply(request["messages"][-1]["content"])
            body = {"id": "x", "object": "chat.completion", "created": 0, "model": request["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 0}}
            self._send(200, json.dumps(body).encode())

    return Handler


@contextmanager
def serving(reply: Callable[[str], str], faults=()) -> Iterator[tuple[str, FakeServer]]:
    """(base URL up to /v1, the server state) while the server runs."""
    state = FakeServer(reply, faults)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads, httpd.block_on_close = True, False  # do not wait for a hanging answer
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", state
    finally:
        httpd.shutdown()
        httpd.server_close()
