"""rewardkit.client: retries on connection errors, timeouts, 429 and 5xx with back-off; other errors at once
with the server's reason; and, against a real `rewardkit serve` process, the offline scores."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

import rewardkit
from rewardkit.client import RewardClient, ServerError
from tests.helpers import dies_with_this_process


def scripted(*answers):
    """A transport answering with `answers` in turn (an Exception is raised instead of answering)."""
    seen = []

    def handle(request):
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle), seen


def test_retries_then_succeeds():
    transport, seen = scripted(httpx.Response(503, json={"detail": "busy"}), httpx.ConnectError("refused"),
                               httpx.Response(200, json={"rewards": [0.5]}))
    client = RewardClient("http://rm:8000", api_key="k", retries=3, backoff=0.001, transport=transport)
    assert client.score([{"prompt": "p", "response": "r"}]) == [0.5]
    assert len(seen) == 3 and seen[0].headers["authorization"] == "Bearer k"


def test_shaping_is_sent_only_when_given():
    import json

    transport, seen = scripted(httpx.Response(200, json={"rewards": [0.5]}))
    client = RewardClient("http://rm:8000", transport=transport)
    items = [{"prompt": "p", "response": "r", "reference_responses": ["q"]}]
    client.score(items, shaping="par")
    client.score(items)
    assert json.loads(seen[0].content)["shaping"] == "par" and "shaping" not in json.loads(seen[1].content)


def test_client_errors_are_not_retried_and_carry_the_reason():
    transport, seen = scripted(httpx.Response(422, json={"detail": "items.0.response: Field required"}))
    client = RewardClient("http://rm:8000", retries=3, backoff=0.001, transport=transport)
    with pytest.raises(ServerError, match="http://rm:8000/v1/score: HTTP 422: items.0.response: Field required"):
        client.score([{"prompt": "p"}])
    assert len(seen) == 1


def test_gives_up_after_the_retries_naming_the_endpoint():
    transport, seen = scripted(httpx.ReadTimeout("slow"))
    client = RewardClient("http://rm:8000/", retries=2, backoff=0.001, transport=transport)
    with pytest.raises(ServerError, match=r"http://rm:8000/v1/compare: ReadTimeout after 3 attempts"):
        client.compare([{"prompt": "p", "chosen": "a", "rejected": "b"}])
    assert len(seen) == 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rewardkit_serve_answers_offline_scores_and_stops_on_sigterm(tiny_bert):
    port = free_port()
    env = {**os.environ, "RK_TEST_KEY": "k3y"}
    server = subprocess.Popen([sys.executable, "-m", "rewardkit.cli.app", "serve", "--model", tiny_bert, "--port",
                               str(port), "--api-key-env", "RK_TEST_KEY"], env=env, stderr=subprocess.PIPE,
                              preexec_fn=dies_with_this_process())
    try:
        client = RewardClient(f"http://127.0.0.1:{port}", api_key="k3y", retries=0)
        for _ in range(240):
            try:
                client.health()
                break
            except ServerError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.25)
        items = [{"prompt": "What is 2+2?", "response": "4"}, {"prompt": "Say hi.", "response": "Hello!"}]
        expected = rewardkit.load(tiny_bert).score([rewardkit.Sample.from_text(i["prompt"], i["response"])
                                                    for i in items]).rewards
        assert client.score(items) == pytest.approx(expected, abs=1e-5)
        with pytest.raises(ServerError, match="HTTP 401"):
            RewardClient(f"http://127.0.0.1:{port}", retries=0).score(items)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    # uvicorn shuts down gracefully (requests in flight answered, the batcher drained), then re-raises the
    # signal so that a supervisor sees how the process ended
    assert code == -signal.SIGTERM and b"Traceback" not in server.stderr.read()


def test_sigterm_under_load_answers_every_request_already_accepted(tiny_bert):
    """32 clients post at once; the batcher holds their requests (a 10 s batching window) when SIGTERM arrives.
    Every request the server accepted is answered with its offline scores after the signal; none is cut off."""
    import threading

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "rewardkit.cli.app", "serve", "--model", tiny_bert, "--port",
                               str(port), "--max-wait-ms", "10000", "--max-batch", "4096"], stderr=subprocess.PIPE,
                              preexec_fn=dies_with_this_process())
    url = f"http://127.0.0.1:{port}"
    items = [[{"prompt": f"Question {i}?", "response": f"Answer {i} " * (1 + i % 7)}] for i in range(32)]
    outcomes: dict[int, tuple[str, object, float]] = {}

    def post(i: int) -> None:
        try:
            answer = httpx.post(f"{url}/v1/score", json={"items": items[i]}, timeout=60)
            outcomes[i] = ("answered", answer, time.perf_counter())
        except httpx.ConnectError:
            outcomes[i] = ("refused", None, time.perf_counter())  # never accepted: allowed
        except httpx.HTTPError as err:
            outcomes[i] = ("cut off", err, time.perf_counter())
    try:
        client = RewardClient(url, retries=0)
        for _ in range(240):
            try:
                client.health()
                break
            except ServerError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.25)
        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(items))]
        for thread in threads:
            thread.start()
        for _ in range(160):  # until the server holds all of them, inside the batching window
            if client.health()["queue_depth"] == len(items):
                break
            time.sleep(0.05)
    finally:
        signalled = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    for thread in threads:
        thread.join(timeout=60)
    model = rewardkit.load(tiny_bert)
    answered = {i: o for i, o in outcomes.items() if o[0] == "answered"}
    assert len(outcomes) == len(items) and not [o for o in outcomes.values() if o[0] == "cut off"]
    assert len(answered) == len(items), f"{len(items) - len(answered)} requests refused"
    for i, (_, answer, at) in answered.items():
        assert answer.status_code == 200 and at > signalled
        expected = model.score([rewardkit.Sample.from_text(x["prompt"], x["response"]) for x in items[i]]).rewards
        assert answer.json()["rewards"] == pytest.approx(expected, abs=1e-5)
    assert code == -signal.SIGTERM and b"Traceback" not in server.stderr.read()
