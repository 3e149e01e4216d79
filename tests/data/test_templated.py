"""Rendered chat templates read back into turns: what an RL trainer sends is the conversation it rendered."""

from __future__ import annotations

import pytest

from rewardkit.data.schemas import Message
from rewardkit.data.templated import split_rendered, strip_special, untemplate

CONVERSATION = (Message("system", "Be brief."), Message("user", "What is 2+2?"), Message("assistant", "4"))

CHATML = ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
          "<|im_start|>assistant\n4<|im_end|>\n")
LLAMA3 = ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
          "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>")
GEMMA = ("<bos><start_of_turn>system\nBe brief.<end_of_turn>\n<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n"
         "<start_of_turn>model\n4<end_of_turn>\n")


@pytest.mark.parametrize("rendered", [CHATML, LLAMA3, GEMMA], ids=["chatml", "llama3", "gemma"])
def test_each_template_gives_back_its_turns_with_padding_on_either_side(rendered):
    assert untemplate(rendered) == CONVERSATION
    assert untemplate("<|endoftext|>" * 3 + rendered + "<|endoftext|><pad>") == CONVERSATION


def test_the_generation_prompt_is_not_a_turn_and_a_cut_response_keeps_its_text():
    assert untemplate("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n") == (Message("user", "Hi"),)
    assert untemplate("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHel")[-1] == \
        Message("assistant", "Hel")


def test_text_in_no_known_template_is_not_read_as_one():
    assert untemplate("What is 2+2? 4") is None
    assert untemplate("Some preamble <|im_start|>user\nHi<|im_end|>") is None  # text before the first turn


def test_strip_special_removes_only_the_tokens_at_the_ends():
    assert strip_special("<s> a </s> b</s></s>\n") == "a </s> b"


def test_a_rendered_query_splits_at_its_rendered_prompt():
    prompt = CHATML[:CHATML.index("4<|im_end|>")]  # ends with the generation prompt
    assert split_rendered("<|endoftext|>" + CHATML + "<|endoftext|>", prompt) == (CONVERSATION[:2], "4")
    assert split_rendered(CHATML) == (CONVERSATION[:2], "4")  # no prompt: the last assistant turn
    assert split_rendered("What is 2+2?4", "What is 2+2?") == ((Message("user", "What is 2+2?"),), "4")
    assert split_rendered("just text") == ((), "just text")


@pytest.mark.slow
def test_smollm2s_own_template_round_trips():
    from transformers import AutoTokenizer

    from rewardkit.models.causal_lm import smollm2_path

    tokenizer = AutoTokenizer.from_pretrained(smollm2_path())
    messages = [{"role": m.role, "content": m.content} for m in CONVERSATION]
    prompt = tokenizer.apply_chat_template(messages[:2], tokenize=False, add_generation_prompt=True)
    ids = tokenizer(tokenizer.apply_chat_template(messages, tokenize=False), add_special_tokens=False)["input_ids"]
    query = tokenizer.decode([tokenizer.pad_token_id] * 2 + ids, skip_special_tokens=False)  # OpenRLHF's way
    assert split_rendered(query, prompt) == (CONVERSATION[:2], "4")
    assert split_rendered(query) == (CONVERSATION[:2], "4")
