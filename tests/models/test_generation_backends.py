"""Generation backends: the OpenAI-compatible client against a local server that fails on purpose (429, 500,
malformed JSON, a hang, a 404), and the local transformers backend on a tiny random LM."""

from __future__ import annotations

import pytest

from rewardkit.errors import ConfigError
from rewardkit.models.backends import make_backend
from rewardkit.models.backends.openai_http import GenerationError
from tests.models.openai_fake import serving


def echo(text: str) -> str:
    return "Verdict: A" if "A" in text else "no idea"


def backend(url, model=None, **options):
    return make_backend("openai", model, base_url=url, **{"backoff": 0.01, "timeout": 1.0, **options})


def test_answers_and_counts_usage_with_the_served_model():
    with serving(lambda text: f"echo {text}") as (url, state):
        gen = backend(url)
        texts = gen.generate(["one", [{"role": "user", "content": "two"}]], max_tokens=5, n=2, seed=7)
    assert gen.model == "fake-judge"  # the first model the server lists
    assert texts == [["echo one"] * 2, ["echo two"] * 2]
    assert sorted(r["seed"] for r in state.requests) == [7, 7, 8, 8]  # sample k has seed + k
    assert {r["max_tokens"] for r in state.requests} == {5}
    assert gen.usage.requests == 4 and gen.usage.generated_tokens == 8 and gen.usage.retries == 0


@pytest.mark.parametrize("fault", ["429", "500", "malformed", "hang"])
def test_transient_faults_are_retried(fault):
    with serving(echo, faults=[fault, fault]) as (url, state):
        gen = backend(url, max_retries=2, concurrency=1)
        assert gen.generate(["pick A"], max_tokens=4) == [["Verdict: A"]]
    assert gen.usage.retries == 2 and len(state.requests) == 3


@pytest.mark.parametrize("fault, says", [("429", "HTTP 429"), ("500", "HTTP 500"), ("malformed", "not valid JSON"),
                                         ("hang", "timeout")])
def test_a_persistent_fault_names_the_endpoint_and_the_cause(fault, says):
    with serving(echo, faults=[fault] * 3) as (url, state):
        gen = backend(url, max_retries=1, timeout=0.5)
        with pytest.raises(GenerationError) as err:
            gen.generate(["pick A"], max_tokens=4)
    message = str(err.value)
    assert f"{url}/chat/completions" in message and says in message and "after 2 attempts" in message
    assert len(state.requests) == 2


def test_a_client_error_is_not_retried():
    with serving(echo, faults=["404"]) as (url, state):
        gen = backend(url, model="missing-model", max_retries=3)
        with pytest.raises(GenerationError, match="HTTP 404 for model 'missing-model'"):
            gen.generate(["x"], max_tokens=4)
    assert len(state.requests) == 1


def test_an_unreachable_server_is_a_clear_error():
    with pytest.raises(GenerationError, match=r"http://127.0.0.1:9/v1/models: cannot list"):
        backend("http://127.0.0.1:9/v1")


def test_backend_options_are_checked():
    with pytest.raises(ConfigError, match="needs base_url"):
        make_backend("openai")
    with pytest.raises(ConfigError, match="unknown generation backend 'vllm'"):
        make_backend("vllm")


@pytest.fixture(scope="module")
def tiny_chat_lm(tmp_path_factory):
    from rewardkit.models.tiny_lm import SIMPLE_CHAT_TEMPLATE, save_tiny_causal_lm

    return save_tiny_causal_lm(tmp_path_factory.mktemp("tiny_chat_lm"), chat_template=SIMPLE_CHAT_TEMPLATE)


def test_local_greedy_generation_does_not_depend_on_batching(tiny_chat_lm):
    """Left padding: a prompt generates the same text alone and beside a longer one."""
    gen = make_backend("transformers", tiny_chat_lm, batch_size=4)
    prompts = ["short", "a much longer prompt with many more words in it than the first"]
    together = gen.generate(prompts, max_tokens=6)
    alone = [gen.generate([p], max_tokens=6)[0] for p in prompts]
    assert together == alone
    assert gen.render("hi").endswith("<|assistant|> ")  # the chat template's generation prompt
    assert gen.usage.requests == 4 and 0 < gen.usage.generated_tokens <= 24


def test_local_sampling_is_seeded_and_logprobs_are_optional(tiny_chat_lm):
    gen = make_backend("transformers", tiny_chat_lm)
    first = gen.generate(["x"], max_tokens=5, temperature=1.0, n=3, seed=1, logprobs=True)
    logprobs = gen.last_logprobs[0]
    assert len(logprobs) == 3 and all(row and all(v <= 0 for v in row) for row in logprobs)
    assert gen.generate(["x"], max_tokens=5, temperature=1.0, n=3, seed=1) == first
    assert gen.last_logprobs is None  # only when asked
    assert len(first[0]) == 3 and len(set(first[0])) > 1
