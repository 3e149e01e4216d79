"""`rewardkit serve`: the scoring server (rewardkit.serving) under uvicorn."""

from __future__ import annotations

from typing import Optional

import typer

from rewardkit.cli.spec_options import (
    Backend, BaseUrl, Beta, JudgeOption, Policy, Reference, Template, check_judge_options, judge_options, model_from,
)
from rewardkit.cli.steering import WEIGHTS_HELP, steering_options


def serve(
    model: str = typer.Option(..., "--model", help="Model folder, hub id, or a spec such as implicit:dpo."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; 127.0.0.1 (this machine only) unless told."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port."),
    api_key_env: Optional[str] = typer.Option(None, help="Name of an environment variable holding the API key "
                                              "every request but /health must send (Authorization: Bearer KEY)."),
    normalize: str = typer.Option("raw", help="Default normalisation: raw | z (the model's training statistics)."),
    combine: Optional[str] = typer.Option(None, help="Default rule rewards added to the model's, e.g. "
                                          "\"0.8*rm + 0.2*format\" (rules: format, answer, length, reasoning)."),
    shaping: Optional[str] = typer.Option(None, help="Default shaping of the model's reward, e.g. par | z | "
                                          "clip=-1,1 | center | stepclip=0.5 | delta (joined by ';')."),
    max_batch: int = typer.Option(64, help="Samples per forward pass at most (concurrent requests are merged and "
                                   "sorted by length)."),
    max_wait_ms: float = typer.Option(5.0, help="How long a request waits for others to share its batch."),
    max_length: Optional[int] = typer.Option(None, help="Tokens per sample at most (default: the model's own); "
                                             "longer inputs are truncated as in training and flagged."),
    dtype: str = typer.Option("fp32", help="fp32 | bf16: bf16 autocast (head in fp32) where the CPU or GPU has "
                              "native bf16 (AVX-512 BF16 or AMX); an error elsewhere. Saved model folders only."),
    max_items: int = typer.Option(1024, help="Items per request at most (413 beyond)."),
    max_body_mb: float = typer.Option(8.0, help="Request body size at most, in MiB (413 beyond)."),
    policy: Policy = None,
    reference: Reference = None,
    beta: Beta = None,
    backend: Backend = None,
    base_url: BaseUrl = None,
    template: Template = None,
    judge_option: JudgeOption = None,
    weights: Optional[str] = typer.Option(None, "--weights", help=WEIGHTS_HELP + " Applies to every request."),
) -> None:
    """Serve a reward model over HTTP: POST /v1/score, /v1/compare, /get_reward (OpenRLHF); GET /health,
    /metrics. SIGTERM or Ctrl-C stops accepting requests and answers the ones in flight before exiting."""
    import os

    from rewardkit.errors import ConfigError
    from rewardkit.models.precision import check_dtype

    if normalize not in ("raw", "z"):
        raise ConfigError(f"--normalize must be raw or z, got {normalize!r}")
    steering = steering_options(model, weights)
    check_dtype(dtype)  # before anything loads, with the error `rewardkit score --dtype` gives
    judge = judge_options(backend, base_url, template, judge_option or [])
    check_judge_options([model], judge)
    check_can_listen(host, port)
    key = None
    if api_key_env:
        key = os.environ.get(api_key_env)
        if not key:
            raise ConfigError(f"--api-key-env {api_key_env}: that environment variable is empty or unset")
    try:
        import uvicorn

        from rewardkit.serving.app import ServerSettings, create_app
    except ImportError as err:
        raise ConfigError(f"rewardkit serve needs the serve extra: pip install 'rewardkit[serve]' ({err})") from None

    settings = ServerSettings(max_batch=max_batch, max_wait_ms=max_wait_ms, max_items=max_items,
                              max_body_bytes=int(max_body_mb * 1024 * 1024), api_key=key, normalize=normalize,
                              combine=combine, shaping=shaping)
    load_options = {**steering, **({"dtype": dtype} if dtype != "fp32" else {})}
    reward_model = model_from(model, load_options, policy=policy, reference=reference, beta=beta, judge=judge,
                              max_length=max_length)
    app = create_app(reward_model, settings)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=30)


def check_can_listen(host: str, port: int) -> None:
    """Bind `host:port` as uvicorn will (SO_REUSEADDR; IPv6 for an address with ':') and let it go, so a port in
    use or an address not on this machine is an error before the model loads."""
    import errno
    import socket

    from rewardkit.errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        reason = ("the port is in use (another server? choose one with --port)" if err.errno == errno.EADDRINUSE
                  else err.strerror or str(err))
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None
