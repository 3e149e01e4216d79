"""`rewardkit serve` on a port it cannot have: rewardkit's one-line error, before the model loads (uvicorn's own
message came after the load, with exit code 3)."""

import socket

import pytest

from rewardkit import families
from tests.helpers import run_cli as run


def refuse_to_load(*args, **kwargs):
    raise AssertionError("the model loaded before the port was checked")


def test_a_port_in_use_is_named_before_the_model_loads(monkeypatch, capsys):
    monkeypatch.setattr(families, "from_name", refuse_to_load)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(["serve", "--model", "any", "--port", str(port)], monkeypatch, capsys)
    assert code == 2, err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "in use" in err and "Traceback" not in err


@pytest.mark.parametrize("host", ["no-such-host.invalid", "999.1.1.1"])
def test_an_address_that_is_not_this_machines_is_named(host, monkeypatch, capsys):
    monkeypatch.setattr(families, "from_name", refuse_to_load)
    code, _, err = run(["serve", "--model", "any", "--host", host, "--port", "8000"], monkeypatch, capsys)
    assert code == 2 and f"cannot listen on {host}:8000" in err, err


def test_a_port_out_of_range_is_an_option_error(monkeypatch, capsys):
    monkeypatch.setattr(families, "from_name", refuse_to_load)
    code, _, err = run(["serve", "--model", "any", "--port", "70000"], monkeypatch, capsys)
    assert code == 2 and "less than or equal to 65535" in err and "OverflowError" not in err, err


def test_a_free_port_is_left_free_for_the_server(tiny_bert, monkeypatch, capsys):
    """The check binds and lets go: uvicorn then gets the port it names."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(kwargs))
    code, _, err = run(["serve", "--model", tiny_bert, "--port", str(port)], monkeypatch, capsys)
    assert code == 0, err
    assert started[0]["port"] == port
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # nothing holds it
