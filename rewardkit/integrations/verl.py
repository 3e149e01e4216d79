"""verl custom reward functions over a `rewardkit serve` URL.

verl runs reward functions inside its own workers, so the reward model lives in a rewardkit server and these
functions send it the rollouts:

    reward.custom_reward_function.path=pkg://rewardkit.integrations.verl     # older verl versions:
    reward.custom_reward_function.name=compute_score                         #   custom_reward_function.*
    +reward.custom_reward_function.reward_kwargs.url=http://rm:8000
    +reward.custom_reward_function.reward_kwargs.prompt_key=question         # default

`compute_score` scores one rollout per call (verl's default, naive reward manager; verl 0.9's reward loop calls
it from several threads at once, and the server batches concurrent requests). `compute_score_batch` sends one
request per batch, for the batch reward manager of verl versions that select one
(`reward_model.reward_manager=batch`; verl 0.9's reward loop has none).

verl hands a reward function the decoded response (`solution_str`), the row's `ground_truth`, `data_source` and
`extra_info`, but not the prompt: put it in each row's extra_info under `prompt_key` when preparing the data
(verl's own GSM8K preparation keeps it as "question"), as a string or a list of {"role", "content"} messages.
A string or number ground truth goes along as the reference answer (read by the answer rule and implicit:rlpr
on the server). Other reward_kwargs: `api_key`, `normalize` ("raw" | "z"), `shaping`, `timeout` (seconds per
request, 60) and `retries` (3).
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

from rewardkit.errors import DataError

_local = threading.local()


def compute_score(data_source: Any = None, solution_str: str = "", ground_truth: Any = None,
                  extra_info: dict | None = None, *, url: str, prompt_key: str = "question",
                  api_key: str | None = None, normalize: str | None = None, shaping: str | None = None,
                  timeout: float = 60.0, retries: int = 3, **_verl: Any) -> float:
    """The reward of one rollout (verl's `compute_score(data_source, solution_str, ground_truth, extra_info)`);
    keyword arguments verl adds for its own reward models (`reward_router_address`, ...) are ignored."""
    item = _item(solution_str, ground_truth, extra_info, prompt_key, None)
    return float(_client(url, api_key, timeout, retries).score([item], normalize, shaping)[0])


def compute_score_batch(data_sources: Sequence[Any] = (), solution_strs: Sequence[str] = (),
                        ground_truths: Sequence[Any] = (), extra_infos: Sequence[dict | None] = (), *, url: str,
                        prompt_key: str = "question", api_key: str | None = None, normalize: str | None = None,
                        shaping: str | None = None, timeout: float = 60.0, retries: int = 3,
                        **_verl: Any) -> list[float]:
    """The rewards of a batch of rollouts in one request (verl's batch reward manager)."""
    if len(solution_strs) == 0:  # a list, or a numpy array (whose truth value is ambiguous)
        return []
    ground_truths = list(ground_truths) or [None] * len(solution_strs)
    extra_infos = list(extra_infos) or [None] * len(solution_strs)
    items = [_item(s, g, e, prompt_key, i) for i, (s, g, e) in enumerate(zip(solution_strs, ground_truths,
                                                                                extra_infos, strict=True))]
    return [float(r) for r in _client(url, api_key, timeout, retries).score(items, normalize, shaping)]


def _item(response: str, ground_truth: Any, extra_info: dict | None, prompt_key: str, index: int | None) -> dict:
    """The /v1/score item of one rollout (`index`: its place in a batch); a DataError naming the key (and the
    rollout) when its prompt is missing."""
    info = extra_info if isinstance(extra_info, dict) else {}
    prompt = info.get(prompt_key)
    if hasattr(prompt, "tolist"):  # verl keeps non-tensor columns as numpy arrays
        prompt = prompt.tolist()
    if not isinstance(prompt, (str, list)) or not prompt:
        have = sorted(info) if info else "no extra_info"
        where = "a rollout" if index is None else f"rollout {index} of the batch"
        raise DataError(f"{where}: extra_info[{prompt_key!r}] must hold the prompt (a string or a list of "
                        f"messages), got {type(prompt).__name__}; extra_info has {have}. Put the prompt there when "
                        "preparing the data, or set reward_kwargs.prompt_key")
    item: dict[str, Any] = {"prompt": prompt, "response": str(response)}
    if isinstance(ground_truth, (str, int, float)) and not isinstance(ground_truth, bool):
        item["reference_answer"] = str(ground_truth)
    return item


def _client(url: str, api_key: str | None, timeout: float, retries: int):
    """One RewardClient per thread and server (verl calls from a pool of threads)."""
    from rewardkit.client import RewardClient

    clients = getattr(_local, "clients", None)
    if clients is None:
        clients = _local.clients = {}
    key = (url, api_key, timeout, retries)
    if key not in clients:
        clients[key] = RewardClient(url, api_key=api_key, timeout=timeout, retries=retries)
    return clients[key]
