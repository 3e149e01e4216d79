"""The scoring server: scores equal offline scoring, concurrent requests share batches, and bad input is a
4xx naming what is wrong, never a 500 (property-based for arbitrary JSON bodies)."""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardkit
from rewardkit.data.schemas import Sample
from rewardkit.models.base import Scores
from rewardkit.serving.app import ServerSettings, create_app
from rewardkit.serving.batcher import MicroBatcher

ITEMS = [{"prompt": "What is 2+2?", "response": "4"},
         {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}],
          "response": "Blue."},
         {"prompt": "Say hello.", "response": "Hello there, friend! " * 40}]


@pytest.fixture(scope="module")
def model(tiny_bert):
    return rewardkit.load(tiny_bert, max_length=64)


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(model, ServerSettings(api_key="s3cret", max_items=8, max_body_bytes=20_000))) as c:
        c.headers["Authorization"] = "Bearer s3cret"
        yield c


def offline(model, items) -> Scores:
    from rewardkit.serving.schemas import Item

    return model.score([Item(**item).sample() for item in items])


def test_scores_equal_offline_scoring_and_flag_truncation(client, model):
    answer = client.post("/v1/score", json={"items": ITEMS}).json()
    expected = offline(model, ITEMS)
    assert answer["rewards"] == pytest.approx(expected.rewards, abs=1e-5)
    assert answer["truncated"] == [False, False, True] == expected.truncated_items
    assert answer["normalize"] == "raw"


def test_compare_is_the_bradley_terry_probability_of_the_margin(client, model):
    pair = {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}
    answer = client.post("/v1/compare", json={"pairs": [pair]}).json()
    chosen, rejected = offline(model, [{"prompt": pair["prompt"], "response": r} for r in ("4", "5")]).rewards
    assert answer["margins"][0] == pytest.approx(chosen - rejected, abs=1e-5)
    assert answer["probabilities"][0] == pytest.approx(1 / (1 + math.exp(rejected - chosen)), abs=1e-5)


def test_openrlhf_get_reward_splits_the_prompt_off_each_query(client, model):
    body = {"query": ["What is 2+2?4", "Say hi.Hi!"], "prompts": ["What is 2+2?", "Say hi."], "labels": ["4", ""]}
    rewards = client.post("/get_reward", json=body).json()["rewards"]
    expected = offline(model, [{"prompt": "What is 2+2?", "response": "4"}, {"prompt": "Say hi.", "response": "Hi!"}])
    assert rewards == pytest.approx(expected.rewards, abs=1e-5)
    assert len(client.post("/get_reward", json={"query": ["just text"]}).json()["rewards"]) == 1


def test_openrlhf_rendered_sequences_are_scored_as_the_conversation_they_render(client, model):
    """What OpenRLHF sends: batch_decode(sequences, skip_special_tokens=False) of a ChatML policy, padding kept,
    its rendered prompts, and labels (which become reference answers)."""
    prompt = ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n"
              "<|im_start|>assistant\n")
    body = {"query": ["<|endoftext|>" * 3 + prompt + "Blue.<|im_end|>", prompt + "Red.<|im_end|><|endoftext|>"],
            "prompts": [prompt, prompt], "labels": ["Blue.", "Blue."]}
    rewards = client.post("/get_reward", json=body).json()["rewards"]
    expected = offline(model, [{"prompt": ITEMS[1]["prompt"], "response": r} for r in ("Blue.", "Red.")])
    assert rewards == pytest.approx(expected.rewards, abs=1e-5)
    assert client.post("/get_reward", json={"query": body["query"]}).json()["rewards"] == pytest.approx(rewards)
    from rewardkit.serving.schemas import OpenRLHFRequest

    assert [s.reference_answer for s in OpenRLHFRequest(**body).samples()] == ["Blue.", "Blue."]


def test_z_normalisation_uses_the_stored_statistics(client, model):
    model.options.reward_mean, model.options.reward_std = 0.5, 2.0
    try:
        with TestClient(create_app(model)) as plain:
            raw = plain.post("/v1/score", json={"items": ITEMS[:2]}).json()["rewards"]
            z = plain.post("/v1/score", json={"items": ITEMS[:2], "normalize": "z"}).json()["rewards"]
    finally:
        model.options.reward_mean, model.options.reward_std = 0.0, 1.0
    assert z == pytest.approx([(r - 0.5) / 2.0 for r in raw], abs=1e-6)


def test_the_api_key_is_required_except_for_health(client):
    assert client.get("/health").status_code == 200
    wrong_keys = ({"Authorization": ""}, {"Authorization": "Bearer wrong"}, {"Authorization": "", "X-API-Key": "s3cre"})
    for headers in wrong_keys:
        answer = client.post("/v1/score", json={"items": ITEMS[:1]}, headers=headers)
        assert answer.status_code == 401 and "API key" in answer.json()["detail"]
    assert client.post("/v1/score", json={"items": ITEMS[:1]}, headers={"Authorization": "", "X-API-Key": "s3cret"}
                       ).status_code == 200


def test_limits_and_malformed_bodies_are_4xx_naming_the_problem(client):
    too_many = client.post("/v1/score", json={"items": ITEMS[:1] * 9})
    assert too_many.status_code == 413 and "at most 8" in too_many.json()["detail"]
    too_big = client.post("/v1/score", json={"items": [{"prompt": "x", "response": "y" * 30_000}]})
    assert too_big.status_code == 413 and "limit is 20000" in too_big.json()["detail"]
    streamed = client.post("/v1/score", content=iter([b'{"items": [', b" " * 25_000, b"]}"]),
                           headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    small = client.post("/v1/score", content=iter([b'{"items": [', json.dumps(ITEMS[0]).encode(), b"]}"]),
                        headers={"Content-Type": "application/json"})
    assert small.status_code == 200 and len(small.json()["rewards"]) == 1  # a streamed body within the limit
    malformed = client.post("/v1/score", content=b'{"items": [', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422
    missing = client.post("/v1/score", json={"items": [{"prompt": "x"}]})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "items", 0, "response"]
    robot = {"prompt": [{"role": "robot", "content": "x"}], "response": "y"}
    wrong = client.post("/v1/score", json={"items": [robot]})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"][:4] == ["body", "items", 0, "prompt"]


def test_content_parts_are_scored_as_their_text_and_other_parts_named(client, model):
    """OpenAI-format messages (content as a list of text parts) score as the same text in a string; an image
    part is a 422 naming the turn and the part."""
    def text(value):
        return [{"type": "text", "text": value}]

    plain = [{"prompt": [{"role": "user", "content": "What is 2+2?\nAnswer briefly."}], "response": "4"}]
    parted = [{"prompt": [{"role": "user", "content": text("What is 2+2?") + text("Answer briefly.")}],
               "response": "4"}]
    answer = client.post("/v1/score", json={"items": parted})
    assert answer.status_code == 200, answer.text
    assert answer.json()["rewards"] == pytest.approx(client.post("/v1/score", json={"items": plain}).json()["rewards"])
    image = [{"prompt": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
              "response": "4"}]
    refused = client.post("/v1/score", json={"items": image})
    assert refused.status_code == 422
    detail = [d for d in refused.json()["detail"] if "list[Turn]" in d["loc"]]  # (the other: prompt as a string)
    assert detail[0]["loc"] == ["body", "items", 0, "prompt", "list[Turn]", 0, "content"]
    assert "content[0]: is a part of type 'image_url'" in detail[0]["msg"]


JSON = st.recursive(  # NaN and ±Infinity included: Python's json writes and reads them
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)
BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries({"items": st.lists(st.fixed_dictionaries({"prompt": JSON, "response": JSON}), max_size=3)}),
    st.fixed_dictionaries({"pairs": JSON}), st.fixed_dictionaries({"query": JSON, "prompts": JSON}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/v1/score", "/v1/compare", "/get_reward"]), body=BODIES)
def test_no_body_gives_a_500(client, path, body):
    answer = client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert answer.status_code < 500, (path, body, answer.text)


def test_metrics_count_requests_and_batches(client):
    client.post("/v1/score", json={"items": ITEMS[:2]})
    text = client.get("/metrics").text
    assert 'rewardkit_requests_total{endpoint="/v1/score",status="200"}' in text
    assert "rewardkit_batch_samples_bucket" in text and "rewardkit_queue_depth" in text


def test_concurrent_requests_share_batches_and_get_their_own_scores():
    calls: list[int] = []

    def score(samples, batch_size):
        assert batch_size == 2  # the forward-pass size the model is told to use
        calls.append(len(samples))
        return Scores([float(len(s.response)) for s in samples], truncated_items=[False] * len(samples))

    async def run():
        batcher = MicroBatcher(score, max_batch=2, max_wait_ms=50)  # a call gathers up to 4 × 2 samples
        await batcher.start()
        requests = [[Sample.from_text("p", "x" * (i + j)) for j in range(2)] for i in range(6)]
        answers = await asyncio.gather(*(batcher.score(r) for r in requests))
        big = await batcher.score([Sample.from_text("p", "y")] * 20)  # larger than a gather: scored alone
        await batcher.stop()
        return requests, answers, big

    requests, answers, big = asyncio.run(run())
    assert [a.rewards for a in answers] == [[float(i), float(i + 1)] for i in range(6)]
    assert sum(calls[:-1]) == 12 and len(calls) - 1 < 6 and max(calls[:-1]) <= 8  # merged, within a gather
    assert calls[-1] == 20 and big.rewards == [1.0] * 20


def test_stop_answers_every_accepted_request():
    async def run():
        batcher = MicroBatcher(lambda s, _: Scores([1.0] * len(s)), max_batch=1, max_wait_ms=1000)
        await batcher.start()
        pending = [asyncio.ensure_future(batcher.score([Sample.from_text("p", "r")])) for _ in range(10)]
        await asyncio.sleep(0)  # queued, still waiting for their batch to fill
        await batcher.stop()
        return await asyncio.gather(*pending)

    assert [a.rewards for a in asyncio.run(run())] == [[1.0]] * 10


def test_a_model_error_is_a_400_for_each_waiting_request(tiny_bert):
    class Refusing:
        family = "toy"

        def score(self, batch, batch_size=None):
            raise rewardkit.RewardkitError("implicit:rlpr needs a reference answer for every sample")

        def parameter_count(self):
            return None

    with TestClient(create_app(Refusing())) as plain:
        answer = plain.post("/v1/score", json={"items": ITEMS[:1]})
    assert answer.status_code == 400 and "reference answer" in answer.json()["detail"]


def test_rule_rewards_combine_per_request_or_by_default(client, model):
    items = [{"prompt": "What is 6 times 7?", "response": "<answer>42</answer>", "reference_answer": "42"},
             {"prompt": "What is 6 times 7?", "response": "It is 41.", "reference_answer": "42"}]
    rm = client.post("/v1/score", json={"items": items}).json()["rewards"]
    answer = client.post("/v1/score", json={"items": items, "combine": "0.5*rm + 2*answer + format"}).json()
    assert answer["rewards"] == pytest.approx([0.5 * rm[0] + 2 + 1, 0.5 * rm[1]], abs=1e-5)
    assert answer["attributes"]["answer"] == [1.0, 0.0] and answer["attributes"]["format"] == [1.0, 0.0]
    bad = client.post("/v1/score", json={"items": items, "combine": "rm + vibes"})
    assert bad.status_code == 400 and "unknown reward 'vibes'" in bad.json()["detail"]
    with TestClient(create_app(model, ServerSettings(combine="rm + format"))) as plain:
        default = plain.post("/v1/score", json={"items": items}).json()["rewards"]
    assert default == pytest.approx([rm[0] + 1, rm[1]], abs=1e-5)
    with pytest.raises(rewardkit.RewardkitError, match="unknown reward 'vibes'"):
        create_app(model, ServerSettings(combine="vibes"))


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_par_shaping_compares_each_item_with_its_reference_responses(client, model):
    refs = ["5", "It is four."]
    items = [{"prompt": "What is 2+2?", "response": "4", "reference_responses": refs}]
    raw = offline(model, [{"prompt": "What is 2+2?", "response": r} for r in ["4", *refs]]).rewards
    answer = client.post("/v1/score", json={"items": items, "shaping": "par"}).json()
    expected = (sigmoid(raw[0] - raw[1]) + sigmoid(raw[0] - raw[2])) / 2
    assert answer["rewards"] == pytest.approx([expected], abs=1e-5)
    assert answer["attributes"]["unshaped"] == pytest.approx([raw[0]], abs=1e-5)
    # shaped, then combined: the rule reward is added to the shaped model reward
    both = client.post("/v1/score", json={"items": items, "shaping": "par", "combine": "rm + 0.5*format"}).json()
    assert both["rewards"] == pytest.approx([expected], abs=1e-5)
    missing = client.post("/v1/score", json={"items": [{"prompt": "Hi", "response": "Hi"}], "shaping": "par"})
    assert missing.status_code == 400 and "reference responses for every sample" in missing.json()["detail"]
    bad = client.post("/v1/score", json={"items": items, "shaping": "clip=2"})
    assert bad.status_code == 400 and "'clip' in 'clip=2' takes 2 value(s), got 1" in bad.json()["detail"]


def test_shaping_by_default_and_after_z_normalisation(model):
    model.options.reward_mean, model.options.reward_std = 0.5, 2.0
    try:
        with TestClient(create_app(model, ServerSettings(shaping="clip=-0.1,0.1"))) as plain:
            raw = plain.post("/v1/score", json={"items": ITEMS[:2], "shaping": "center=0"}).json()["rewards"]
            clipped = plain.post("/v1/score", json={"items": ITEMS[:2]}).json()["rewards"]
            z_clipped = plain.post("/v1/score", json={"items": ITEMS[:2], "normalize": "z"}).json()["rewards"]
    finally:
        model.options.reward_mean, model.options.reward_std = 0.0, 1.0
    assert clipped == pytest.approx([min(max(r, -0.1), 0.1) for r in raw], abs=1e-6)
    assert z_clipped == pytest.approx([min(max((r - 0.5) / 2, -0.1), 0.1) for r in raw], abs=1e-6)
    with pytest.raises(rewardkit.RewardkitError, match="unknown shaping 'pca'"):
        create_app(model, ServerSettings(shaping="pca"))
