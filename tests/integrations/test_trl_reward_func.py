"""rewardkit.integrations.trl.reward_func: TRL's (prompts, completions, **columns) → rewards, for standard and
conversational data, from a local model or a server, equal to scoring the same samples directly."""

from __future__ import annotations

import pytest

import rewardkit
from rewardkit.data.schemas import Message, Sample
from rewardkit.errors import DataError
from rewardkit.integrations.trl import reward_func, to_sample

PROMPTS = ["What is 2+2?", [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Colour?"}]]
COMPLETIONS = ["4", [{"role": "assistant", "content": "Blue."}]]


def test_trl_prompts_and_completions_become_samples():
    assert to_sample(PROMPTS[0], COMPLETIONS[0]) == Sample.from_text("What is 2+2?", "4")
    assert to_sample(PROMPTS[1], COMPLETIONS[1], "Blue") == Sample(
        (Message("system", "Be brief."), Message("user", "Colour?")), "Blue.", "Blue")
    multi = to_sample("Hi", [{"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Joke?"},
                             {"role": "assistant", "content": "No."}])
    assert multi.prompt[-2:] == (Message("assistant", "Hello"), Message("user", "Joke?")) and multi.response == "No."
    with pytest.raises(DataError, match="completion must be a string or a list of messages"):
        to_sample("Hi", 3)


def test_content_parts_are_read_as_text_and_other_parts_refused():
    """TRL passes conversations as they are in the dataset; content as a list of parts was scored as the Python
    text of that list ("[{'type': 'text', ...}]")."""
    def text(value):
        return [{"type": "text", "text": value}]

    sample = to_sample([{"role": "user", "content": text("Colour?")}],
                       [{"role": "assistant", "content": text("Blue.")}])
    assert sample == Sample((Message("user", "Colour?"),), "Blue.")
    image = [{"role": "user", "content": [{"type": "image"}, *text("What is this?")]}]
    with pytest.raises(DataError, match=r"prompt\[0\] content\[0\]: is a part of type 'image'"):
        to_sample(image, "A cat.")
    with pytest.raises(DataError, match=r"completion\[0\] content: must be a string or a list of text parts"):
        to_sample("Hi", [{"role": "assistant", "content": None}])


def test_python_conversations_read_content_parts():
    from rewardkit.data.content_parts import ContentError
    from rewardkit.data.schemas import as_conversation

    assert as_conversation([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]) == (Message("user", "Hi"),)
    with pytest.raises(ContentError, match="content: must be a string or a list of text parts, got null"):
        as_conversation([{"role": "user", "content": None}])


def test_a_local_model_scores_what_trl_passes(tiny_bert):
    model = rewardkit.load(tiny_bert)
    reward = reward_func(model, name="minilm_rm")
    expected = model.score([to_sample(p, c) for p, c in zip(PROMPTS, COMPLETIONS)]).rewards
    assert reward(prompts=PROMPTS, completions=COMPLETIONS, answer=["x", "y"]) == pytest.approx(expected, abs=1e-6)
    assert reward.__name__ == "minilm_rm"
    assert reward_func(tiny_bert)(PROMPTS, COMPLETIONS) == pytest.approx(expected, abs=1e-6)  # a folder


def test_a_server_url_scores_the_same(server, tiny_bert):
    local = reward_func(rewardkit.load(tiny_bert))(PROMPTS, COMPLETIONS)
    assert reward_func(server)(PROMPTS, COMPLETIONS) == pytest.approx(local, abs=1e-5)


def test_grpo_trainer_trains_a_few_steps_on_the_reward(tiny_bert, tmp_path):
    """TRL's GRPOTrainer, a tiny random policy, two prompts × 2 generations per step: the trainer calls the
    reward function with its completions and logs the rewards it returned."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from rewardkit.models.tiny_lm import save_tiny_causal_lm

    from transformers import AutoTokenizer

    policy = save_tiny_causal_lm(tmp_path / "policy", seed=3)
    tokenizer = AutoTokenizer.from_pretrained(policy)  # the MiniLM tokenizer has no eos; generation needs one
    tokenizer.eos_token = "[SEP]"
    tokenizer.save_pretrained(policy)
    model = rewardkit.load(tiny_bert)
    scored = reward_func(model, name="minilm_rm")
    calls = []

    def recording(prompts, completions, **columns):
        calls.append((list(prompts), list(completions), scored(prompts, completions, **columns)))
        return calls[-1][2]

    recording.__name__ = scored.__name__
    args = GRPOConfig(output_dir=str(tmp_path / "grpo"), per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=6, max_steps=2, learning_rate=1e-3, logging_steps=1, report_to=[],
                      save_strategy="no", use_cpu=True, seed=0, disable_tqdm=True)
    dataset = Dataset.from_dict({"prompt": ["What is 2+2?", "Name a colour.", "Say hello.", "Count to three."]})
    trainer = GRPOTrainer(model=policy, reward_funcs=[recording], args=args, train_dataset=dataset)
    try:
        trainer.train()
    finally:  # the HF Trainer leaves accelerate's process-wide state set (bf16 here); later tests start afresh
        from accelerate.state import AcceleratorState, PartialState

        AcceleratorState._reset_state(reset_partial_state=True)
        PartialState._reset_state()
    assert len(calls) >= 2 and all(len(c) == len(p) == len(r) == 4 for p, c, r in calls)
    prompts, completions, rewards = calls[0]
    assert rewards == pytest.approx(model.score([to_sample(p, c) for p, c in zip(prompts, completions)]).rewards,
                                    abs=1e-5)
    logged = [entry for entry in trainer.state.log_history if "rewards/minilm_rm/mean" in entry]
    assert len(logged) == 2 and all(isinstance(entry["rewards/minilm_rm/mean"], float) for entry in logged)


def test_rules_combine_with_the_model_locally_and_through_a_server(server, tiny_bert):
    prompts = ["What is 6 times 7?", "What is 2+2?"]
    completions = ["6 x 7 = 42. <answer>42</answer>", "It is 5."]
    model = rewardkit.load(tiny_bert)
    rm = model.score([to_sample(p, c) for p, c in zip(prompts, completions)]).rewards
    expected = [0.8 * rm[0] + 0.2 * 1.0, 0.8 * rm[1] + 0.2 * 0.0]
    local = reward_func(model, combine="0.8*rm + 0.2*answer", reference_column="solution")
    assert local(prompts, completions, solution=["42", "4"]) == pytest.approx(expected, abs=1e-6)
    remote = reward_func(server, combine="0.8*rm + 0.2*answer", reference_column="solution")
    assert remote(prompts, completions, solution=["42", "4"]) == pytest.approx(expected, abs=1e-5)


def test_shaping_par_reads_the_reference_responses_column_then_combines(tiny_bert):
    import math

    model = rewardkit.load(tiny_bert)
    prompts, completions = ["What is 2+2?"] * 2, ["4", "<answer>4</answer>"]
    refs = [["5"], ["five", "4"]]
    raw = model.score([Sample.from_text("What is 2+2?", r) for r in ["4", "<answer>4</answer>", "5", "five"]]).rewards
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = [sig(raw[0] - raw[2]), (sig(raw[1] - raw[3]) + sig(raw[1] - raw[0])) / 2]
    reward = reward_func(model, shaping="par")
    assert reward(prompts=prompts, completions=completions, reference_responses=refs) == pytest.approx(
        expected, abs=1e-6)
    combined = reward_func(model, shaping="par", combine="rm + format", references_column="refs")
    assert combined(prompts, completions, refs=refs) == pytest.approx([expected[0], expected[1] + 1], abs=1e-6)
    with pytest.raises(DataError, match="column 'reference_responses', row 1: must be a list of strings"):
        reward(prompts, completions, reference_responses=[["5"], "five"])
    with pytest.raises(rewardkit.RewardkitError, match="reference responses for every sample"):
        reward(prompts, completions)
