"""A rewardkit server on tiny_bert, in a thread of the test process, for the RL-trainer adapters."""

import socket
import threading
import time

import pytest

import rewardkit


def serve_in_thread(model, settings=None):
    """Start `model`'s server on a free local port; yields its URL, stops it after."""
    import uvicorn

    from rewardkit.serving.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(model, settings), host="127.0.0.1", port=port, log_level="error")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def server(tiny_bert):
    yield from serve_in_thread(rewardkit.load(tiny_bert))
