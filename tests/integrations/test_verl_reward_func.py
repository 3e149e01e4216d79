"""rewardkit.integrations.verl: verl's custom reward function calls (one rollout per call, from several threads
at once as verl's reward loop makes them, or a batch) against a rewardkit server, equal to scoring the same
samples directly. The calls are made with the keyword arguments verl 0.9 passes (experiments/verl_managers.py
runs verl's own managers; verl is not a test dependency: its transformers pin conflicts)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import rewardkit
from rewardkit.client import ServerError
from rewardkit.data.schemas import Message, Sample
from rewardkit.errors import DataError
from rewardkit.integrations.verl import compute_score, compute_score_batch
from tests.integrations.conftest import serve_in_thread

QUESTIONS = ["What is 17 + 25?", np.array([{"role": "system", "content": "Be brief."},
                                           {"role": "user", "content": "Name a colour."}], dtype=object)]
RESPONSES = ["17 + 25 = 42, so the answer is 42", "Blue."]
# what verl's managers add to a row's extra_info before the call
EXTRA = [{"question": q, "index": i, "num_turns": None, "rollout_reward_scores": {}} for i, q in enumerate(QUESTIONS)]


def expected(tiny_bert) -> list[float]:
    conversation = (Message("system", "Be brief."), Message("user", "Name a colour."))
    samples = [Sample.from_text(QUESTIONS[0], RESPONSES[0]), Sample(conversation, RESPONSES[1])]
    return rewardkit.load(tiny_bert).score(samples).rewards


def test_one_rollout_per_call_from_many_threads_scores_as_the_model(server, tiny_bert):
    def one(i: int) -> float:
        return compute_score(data_source="gsm8k", solution_str=RESPONSES[i % 2], ground_truth="42",
                             extra_info=EXTRA[i % 2], url=server, reward_router_address=None)

    with ThreadPoolExecutor(8) as pool:  # verl's reward loop runs compute_score in an executor
        rewards = list(pool.map(one, range(16)))
    assert rewards == pytest.approx(expected(tiny_bert) * 8, abs=1e-5)


def test_a_batch_in_one_request_scores_as_the_model(server, tiny_bert):
    rewards = compute_score_batch(data_sources=np.array(["gsm8k", "chat"], dtype=object), solution_strs=RESPONSES,
                                  ground_truths=["42", None], extra_infos=EXTRA, url=server)
    assert rewards == pytest.approx(expected(tiny_bert), abs=1e-5)
    assert compute_score_batch(data_sources=[], solution_strs=[], ground_truths=[], extra_infos=[], url=server) == []
    as_arrays = compute_score_batch(np.array(["a", "b"], dtype=object), np.array(RESPONSES, dtype=object),
                                    np.array(["42", None], dtype=object), np.array(EXTRA, dtype=object), url=server)
    assert as_arrays == pytest.approx(rewards, abs=1e-6)


def test_the_ground_truth_reaches_the_server_as_the_reference_answer(tiny_bert):
    """A server whose reward is the answer rule: 1 only when the response's final answer is the ground truth."""
    from rewardkit.serving.app import ServerSettings

    urls = serve_in_thread(rewardkit.load(tiny_bert), ServerSettings(combine="answer"))
    url = next(urls)
    try:
        right = compute_score("gsm8k", RESPONSES[0], "42", EXTRA[0], url=url)
        wrong = compute_score("gsm8k", RESPONSES[0], 41, EXTRA[0], url=url)
        with pytest.raises(ServerError, match="needs each sample's reference answer"):  # a dict is not one
            compute_score("gsm8k", RESPONSES[0], {"answers": ["42"]}, EXTRA[0], url=url)
    finally:
        next(urls, None)
    assert (right, wrong) == (1.0, 0.0)


def test_a_rollout_without_its_prompt_names_the_key(server):
    with pytest.raises(DataError, match=r"a rollout: extra_info\['problem'\] must hold the prompt .* extra_info has "
                                        r"\['index', 'num_turns', 'question', 'rollout_reward_scores'\]"):
        compute_score("gsm8k", "42", "42", EXTRA[0], url=server, prompt_key="problem")
    with pytest.raises(DataError, match=r"rollout 1 of the batch: extra_info\['question'\] .* no extra_info"):
        compute_score_batch(["a", "b"], RESPONSES, [None, None], [EXTRA[0], None], url=server)
