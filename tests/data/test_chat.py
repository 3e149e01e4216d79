"""Chat rendering: plain pair for template-less tokenizers, chat template otherwise, left truncation."""

from rewardkit import Sample
from rewardkit.data.chat import ChatEncoder, render_plain
from rewardkit.data.schemas import Message

TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} [SEP] {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


def test_plain_pair_matches_tokenizer_pair_encoding(minilm_tokenizer):
    sample = Sample((Message("system", "Be kind."), Message("user", "Hi there")), "Hello friend")
    encoded = ChatEncoder(minilm_tokenizer, 64).encode(sample)
    expected = minilm_tokenizer("system: Be kind.\nuser: Hi there", "Hello friend")["input_ids"]
    assert encoded.input_ids == expected
    response = minilm_tokenizer.decode(encoded.input_ids[encoded.response_start:], skip_special_tokens=True)
    assert response == "hello friend"  # MiniLM is uncased
    assert not encoded.truncated
    assert render_plain(sample.prompt) == "system: Be kind.\nuser: Hi there"


def test_one_segment_pair_finds_the_response_after_left_truncation(minilm_tokenizer):
    from transformers import AutoTokenizer

    one_segment = AutoTokenizer.from_pretrained(minilm_tokenizer.name_or_path,
                                                model_input_names=["input_ids", "attention_mask"])
    sample = Sample.from_text("old words " * 30 + "final question", "short answer here")
    encoded = ChatEncoder(one_segment, 16).encode(sample)
    assert encoded.truncated and len(encoded.input_ids) == 16 and encoded.token_type_ids is None
    assert one_segment.decode(encoded.input_ids[encoded.response_start:], skip_special_tokens=True) == \
        "short answer here"
    assert "final question" in one_segment.decode(encoded.input_ids[: encoded.response_start])


def test_encode_many_equals_encode_one_by_one(minilm_tokenizer):
    from transformers import AutoTokenizer

    one_segment = AutoTokenizer.from_pretrained(minilm_tokenizer.name_or_path,
                                                model_input_names=["input_ids", "attention_mask"])
    samples = [Sample.from_text("Hi there", "Hello friend"), Sample.from_text("old words " * 30, "short answer"),
               Sample.from_text("An empty answer follows.", ""),
               Sample((Message("system", "Be kind."), Message("user", "Hi")), "Hello " * 40)]
    for tokenizer in (minilm_tokenizer, one_segment):
        encoder = ChatEncoder(tokenizer, 24)
        assert encoder.encode_many(samples) == [encoder.encode(s) for s in samples]
        assert [e.truncated for e in encoder.encode_many(samples)] == [False, True, False, True]


def test_chat_template_path_splits_prompt_and_response(minilm_tokenizer):
    tok = minilm_tokenizer.__class__.from_pretrained(minilm_tokenizer.name_or_path)
    tok.chat_template = TEMPLATE
    encoder = ChatEncoder(tok, 64)
    assert encoder.uses_chat_template
    sample = Sample.from_text("What is two plus two?", "four")
    prompt_text, response_text = encoder.texts(sample)
    assert prompt_text.endswith("<|assistant|> ")
    assert response_text.strip().startswith("four")
    encoded = encoder.encode(sample)
    assert tok.decode(encoded.input_ids[encoded.response_start:]).startswith("four")


def test_chat_template_truncates_prompt_from_the_left(minilm_tokenizer):
    tok = minilm_tokenizer.__class__.from_pretrained(minilm_tokenizer.name_or_path)
    tok.chat_template = TEMPLATE
    encoder = ChatEncoder(tok, 24)
    sample = Sample.from_text("one two three four five six seven eight nine ten " * 4 + "final question", "short answer")
    encoded = encoder.encode(sample)
    assert encoded.truncated and len(encoded.input_ids) == 24
    assert "final question" in tok.decode(encoded.input_ids[: encoded.response_start])
    assert tok.decode(encoded.input_ids[encoded.response_start:]).startswith("short answer")
