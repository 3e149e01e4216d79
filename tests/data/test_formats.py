from __future__ import annotations

import math

import pytest

from rewardkit.data.formats import (
    Skip,
    detect_format,
    helpsteer2_preference_pair,
    helpsteer2_rated,
    hh_pair,
    keys_pair,
    pair_parser,
    trl_implicit_pair,
    trl_pair,
)
from rewardkit.data.schemas import Message, PreferencePair, Sample
from rewardkit.errors import ConfigError, DataError

U, A, S = "user", "assistant", "system"


def msg(role: str, content: str) -> dict:
    return {"role": role, "content": content}


def located(fn, row, **kwargs) -> DataError:
    """Run a parser that must fail, at file f.jsonl line 7, and return its error."""
    with pytest.raises(DataError) as info:
        fn(row, file="f.jsonl", line=7, **kwargs)
    assert (info.value.file, info.value.line) == ("f.jsonl", 7)
    assert "file f.jsonl, line 7" in str(info.value)
    return info.value


# --- trl (explicit prompt) and keys ---------------------------------------------------------------


def test_trl_text_row_with_optional_fields():
    row = {"prompt": "2+2?", "chosen": "4", "rejected": "5", "margin": 2, "subset": "math", "id": 17}
    assert trl_pair(row) == PreferencePair((Message(U, "2+2?"),), "4", "5", margin=2.0, subset="math", id="17")


def test_trl_conversational_row():
    row = {
        "prompt": [msg(S, "Be brief."), msg(U, "Hi")],
        "chosen": [msg(A, "Hello.")],
        "rejected": [msg(A, "Greetings, dear user.")],
    }
    pair = trl_pair(row)
    assert pair.prompt == (Message(S, "Be brief."), Message(U, "Hi"))
    assert (pair.chosen, pair.rejected) == ("Hello.", "Greetings, dear user.")
    assert (pair.margin, pair.subset, pair.id) == (None, None, None)


def parts(*texts: str) -> list[dict]:
    return [{"type": "text", "text": text} for text in texts]


def test_openai_content_parts_are_read_as_their_text():
    """Content as a list of {"type": "text", "text"} parts (OpenAI's chat format, and Hugging Face's for
    multimodal templates): the texts joined by newlines, as vLLM joins them for a text-only model."""
    row = {"prompt": [{"role": S, "content": parts("Be brief.")}, {"role": U, "content": parts("Hi", "there")}],
           "chosen": [{"role": A, "content": parts("Hello.")}], "rejected": [msg(A, "Go away.")]}
    pair = trl_pair(row)
    assert pair.prompt == (Message(S, "Be brief."), Message(U, "Hi\nthere"))
    assert (pair.chosen, pair.rejected) == ("Hello.", "Go away.")


@pytest.mark.parametrize(("content", "field", "reason"), [
    ([{"type": "image_url", "image_url": {"url": "x.png"}}], "prompt[0].content[0]",
     "a part of type 'image_url'; rewardkit scores text only"),
    (["Hi"], "prompt[0].content[0]", "must be a {type, text} object, got string"),
    ([{"type": "text"}], "prompt[0].content[0].text", "must be a string, got null"),
    ([], "prompt[0].content", "is an empty list of content parts"),
])
def test_content_parts_that_are_not_text_are_named(content, field, reason):
    error = located(trl_pair, {"prompt": [{"role": U, "content": content}], "chosen": "a", "rejected": "b"})
    assert error.field == field and reason in str(error)


def test_sharegpt_messages_are_read_as_role_and_content():
    """ShareGPT's {"from": "human" | "gpt" | "system", "value"} turns, as many open datasets keep them."""
    row = {"prompt": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi"}],
           "chosen": [{"from": "gpt", "value": "Hello."}], "rejected": [{"from": "gpt", "value": "Go away."}]}
    pair = trl_pair(row)
    assert pair.prompt == (Message(S, "Be brief."), Message(U, "Hi"))
    assert (pair.chosen, pair.rejected) == ("Hello.", "Go away.")
    sharegpt_dpo = {"conversations": [{"from": "human", "value": "Hi"}], "chosen": {"from": "gpt", "value": "Hello."},
                    "rejected": {"from": "gpt", "value": "Go away."}}  # responses as one message object each
    assert detect_format(sharegpt_dpo) == "sharegpt"  # LLaMA-Factory's layout
    pair = pair_parser("sharegpt")(sharegpt_dpo)
    assert (pair.prompt, pair.chosen, pair.rejected) == ((Message(U, "Hi"),), "Hello.", "Go away.")
    error = located(keys_pair, {**sharegpt_dpo, "rejected": {"from": "human", "value": "?"}},
                    prompt_key="conversations")
    assert error.field == "rejected" and "must be an assistant message" in str(error)
    error = located(trl_pair, {"prompt": [{"from": "robot", "value": "x"}], "chosen": "a", "rejected": "b"})
    assert error.field == "prompt[0].from" and "human, gpt, system" in str(error) and "got 'robot'" in str(error)


def test_trl_turns_before_the_final_assistant_message_extend_the_prompt():
    shared = [msg(A, "Which city?"), msg(U, "Paris")]
    row = {"prompt": "Weather?", "chosen": [*shared, msg(A, "Sunny.")], "rejected": [*shared, msg(A, "No idea.")]}
    pair = trl_pair(row)
    assert pair.prompt == (Message(U, "Weather?"), Message(A, "Which city?"), Message(U, "Paris"))
    assert (pair.chosen, pair.rejected) == ("Sunny.", "No idea.")


def test_trl_completion_turns_that_differ_are_each_sides_context_or_an_error_when_strict():
    row = {"prompt": "Q", "chosen": [msg(U, "x"), msg(A, "a")], "rejected": [msg(U, "y"), msg(A, "b")]}
    pair = trl_pair(row)
    assert pair.prompt == (Message(U, "Q"),) and pair.diverged
    assert pair.samples()[0] == Sample((Message(U, "Q"), Message(U, "x")), "a")
    assert pair.samples()[1] == Sample((Message(U, "Q"), Message(U, "y")), "b")
    error = located(trl_pair, row, strict=True)
    assert error.field == "rejected" and "differ" in str(error) and "strict_rows" in str(error)


def test_trl_completion_must_end_with_an_assistant_message():
    row = {"prompt": "Q", "chosen": [msg(U, "a")], "rejected": "b"}
    error = located(trl_pair, row)
    assert error.field == "chosen" and "must end with an assistant message" in str(error)


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ({"chosen": "a", "rejected": "b"}, "prompt", "missing (the row has: chosen, rejected)"),
        ({"prompt": "Q", "chosen": None, "rejected": "b"}, "chosen", "is null"),
        ({"prompt": 3, "chosen": "a", "rejected": "b"}, "prompt", "a list of {role, content} messages, got number"),
        ({"prompt": "Q", "chosen": "a", "rejected": {"text": "b"}}, "rejected", "got object"),
        ({"prompt": [], "chosen": "a", "rejected": "b"}, "prompt", "empty message list"),
        ({"prompt": ["hi"], "chosen": "a", "rejected": "b"}, "prompt[0]", "a {role, content} object, got string"),
        ({"prompt": [msg("human", "Q")], "chosen": "a", "rejected": "b"}, "prompt[0].role", "got 'human'"),
        ({"prompt": "Q", "chosen": [{"role": A, "content": 5}], "rejected": "b"}, "chosen[0].content", "got number"),
        ({"prompt": "Q", "chosen": "a", "rejected": "b", "margin": "big"}, "margin", "must be a number, got string"),
        ({"prompt": "Q", "chosen": "a", "rejected": "b", "margin": True}, "margin", "must be a number, got boolean"),
        ({"prompt": "Q", "chosen": "a", "rejected": "b", "subset": 3}, "subset", "must be a string, got number"),
        ({"prompt": "Q", "chosen": "a", "rejected": "b", "id": [1]}, "id", "must be a string or an integer, got array"),
    ],
)
def test_trl_bad_fields_are_named(row, field, reason):
    error = located(trl_pair, row)
    assert error.field == field
    assert f"field '{field}': " in str(error) and reason in str(error)


def test_null_and_nan_optional_fields_are_absent():
    row = {"prompt": "Q", "chosen": "a", "rejected": "b", "margin": float("nan"), "subset": None, "id": None}
    pair = trl_pair(row)
    assert (pair.margin, pair.subset, pair.id) == (None, None, None)


def test_keys_reads_custom_names_and_reports_them_in_errors():
    row = {"question": "Q", "good": "a", "bad": "b", "gap": 0.5}
    keys = dict(prompt_key="question", chosen_key="good", rejected_key="bad", margin_key="gap")
    assert keys_pair(row, **keys) == PreferencePair((Message(U, "Q"),), "a", "b", margin=0.5)
    assert located(keys_pair, {"question": "Q", "good": "a"}, **keys).field == "bad"


# --- trl-implicit ---------------------------------------------------------------------------------


def test_trl_implicit_conversations_share_the_prompt():
    prompt = [msg(S, "Be kind."), msg(U, "Hi")]
    row = {"chosen": [*prompt, msg(A, "Hello!")], "rejected": [*prompt, msg(A, "What.")], "margin": 1}
    pair = trl_implicit_pair(row)
    assert pair == PreferencePair((Message(S, "Be kind."), Message(U, "Hi")), "Hello!", "What.", margin=1.0)


def test_trl_implicit_conversations_that_share_no_turn_have_no_prompt():
    row = {"chosen": [msg(U, "Hi"), msg(A, "a")], "rejected": [msg(U, "Hey"), msg(A, "b")]}
    error = located(trl_implicit_pair, row)
    assert error.field == "chosen" and "shares no turns" in str(error)


def test_trl_implicit_conversations_diverging_early_keep_the_shared_turns_as_prompt():
    shared = [msg(U, "Hi"), msg(A, "Hello."), msg(U, "Tell me a joke.")]
    row = {"chosen": [*shared, msg(A, "Why did..."), msg(U, "Ha!"), msg(A, "Glad you liked it.")],
           "rejected": [*shared, msg(A, "No."), msg(U, "Please?"), msg(A, "Still no.")]}
    pair = trl_implicit_pair(row)
    assert len(pair.prompt) == 3 and pair.prompt[2] == Message(U, "Tell me a joke.")
    assert pair.chosen_turns == (Message(A, "Why did..."), Message(U, "Ha!")) and pair.chosen == "Glad you liked it."
    assert pair.rejected_turns == (Message(A, "No."), Message(U, "Please?")) and pair.rejected == "Still no."
    assert not trl_implicit_pair({"chosen": [*shared, msg(A, "a")], "rejected": [*shared, msg(A, "b")]}).diverged
    assert "strict_rows" in str(located(trl_implicit_pair, row, strict=True))


def test_trl_implicit_needs_a_prompt_turn():
    error = located(trl_implicit_pair, {"chosen": [msg(A, "a")], "rejected": [msg(A, "b")]})
    assert error.field == "chosen" and "no prompt" in str(error)


def test_trl_implicit_text_splits_at_the_last_shared_word_break():
    pair = trl_implicit_pair({"chosen": "Colour of the sky? Blue.", "rejected": "Colour of the sky? Bright green."})
    assert (pair.prompt, pair.chosen, pair.rejected) == ((Message(U, "Colour of the sky?"),), "Blue.", "Bright green.")


def test_trl_implicit_text_with_one_response_a_prefix_of_the_other():
    pair = trl_implicit_pair({"chosen": "Q: name? A", "rejected": "Q: name? A longer answer"})
    assert (pair.prompt[0].content, pair.chosen, pair.rejected) == ("Q: name?", "A", "A longer answer")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"chosen": "Same text", "rejected": "Same text"}, "identical"),
        ({"chosen": "Yes.", "rejected": "No."}, "shares no prompt"),
        ({"chosen": "Q? A", "rejected": [msg(U, "Q?"), msg(A, "B")]}, "same kind"),
    ],
)
def test_trl_implicit_text_errors(row, reason):
    error = located(trl_implicit_pair, row)
    assert error.field == "rejected" and reason in str(error)


# --- hh -------------------------------------------------------------------------------------------


def test_hh_single_turn():
    row = {"chosen": "\n\nHuman: What is 2+2?\n\nAssistant: 4.", "rejected": "\n\nHuman: What is 2+2?\n\nAssistant: 5."}
    assert hh_pair(row) == PreferencePair((Message(U, "What is 2+2?"),), "4.", "5.")


def test_hh_multi_turn_keeps_paragraphs_inside_a_turn():
    prefix = "\n\nHuman: Tell me a joke.\n\nAssistant: Why?\nBecause.\n\nHuman: Another, please."
    chosen, rejected = prefix + "\n\nAssistant: Para one.\n\nPara two.", prefix + "\n\nAssistant:"
    row = {"chosen": chosen, "rejected": rejected, "id": "x1"}
    pair = hh_pair(row)
    assert pair.prompt == (Message(U, "Tell me a joke."), Message(A, "Why?\nBecause."), Message(U, "Another, please."))
    assert (pair.chosen, pair.rejected, pair.id) == ("Para one.\n\nPara two.", "", "x1")


@pytest.mark.parametrize(
    ("chosen", "rejected", "field", "reason"),
    [
        ("\n\nHuman: Hi\n\nAssistant: a", "\n\nHuman: Hello\n\nAssistant: b", "rejected", "so no prompt"),
        ("\n\nHuman: Hi\n\nAssistant: a\n\nHuman: more?", "\n\nHuman: Hi", "chosen", "does not end with"),
        ("Hi there", "\n\nHuman: Hi\n\nAssistant: b", "chosen", "has no"),
        ("Note\n\nHuman: Hi\n\nAssistant: a", "\n\nHuman: Hi\n\nAssistant: b", "chosen", "text before the first turn"),
        ("\n\nAssistant: a", "\n\nAssistant: b", "chosen", "no 'Human:' turn"),
        ("\n\nHuman: Hi\n\nAssistant: a", ["not text"], "rejected", "must be a string, got array"),
    ],
)
def test_hh_errors(chosen, rejected, field, reason):
    error = located(hh_pair, {"chosen": chosen, "rejected": rejected})
    assert error.field == field and reason in str(error)


# --- helpsteer2-preference ------------------------------------------------------------------------


def test_helpsteer2_preference_negative_strength_prefers_response_1():
    row = {"prompt": "Q", "response_1": "one", "response_2": "two", "preference_strength": -3}
    assert helpsteer2_preference_pair(row) == PreferencePair((Message(U, "Q"),), "one", "two", margin=3.0)


def test_helpsteer2_preference_positive_strength_prefers_response_2_under_either_column_name():
    row = {"prompt": "Q", "response_1": "one", "response_2": "two", "overall_preference": 1, "subset": "code"}
    expected = PreferencePair((Message(U, "Q"),), "two", "one", margin=1.0, subset="code")
    assert helpsteer2_preference_pair(row) == expected


def test_helpsteer2_preference_tie_is_a_skip():
    row = {"prompt": "Q", "response_1": "one", "response_2": "two", "preference_strength": 0}
    assert helpsteer2_preference_pair(row) == Skip("tie (preference_strength 0)")


@pytest.mark.parametrize(
    ("strength", "field", "reason"),
    [
        (4, "preference_strength", "between -3 and 3, got 4"),
        ("-2", "preference_strength", "must be a number, got string"),
        (None, "preference_strength", "is null"),
    ],
)
def test_helpsteer2_preference_bad_strength(strength, field, reason):
    row = {"prompt": "Q", "response_1": "one", "response_2": "two", "preference_strength": strength}
    error = located(helpsteer2_preference_pair, row)
    assert error.field == field and reason in str(error)


def test_helpsteer2_preference_tie_with_a_bad_field_is_still_an_error():
    row = {"prompt": "Q", "response_1": "one", "preference_strength": 0}
    assert located(helpsteer2_preference_pair, row).field == "response_2"


# --- helpsteer2 (rated) ---------------------------------------------------------------------------


def test_helpsteer2_rated_missing_null_and_nan_become_none():
    row = {"prompt": "Q", "response": "R", "helpfulness": 4, "correctness": None, "coherence": math.nan, "verbosity": 1.5}
    rated = helpsteer2_rated(row)
    assert (rated.prompt, rated.response) == ((Message(U, "Q"),), "R")
    assert rated.ratings == dict(helpfulness=4.0, correctness=None, coherence=None, complexity=None, verbosity=1.5)


def test_helpsteer2_rated_custom_attributes_replace_the_defaults():
    rated = helpsteer2_rated({"prompt": "Q", "response": "R", "safety": 0, "helpfulness": 3}, attributes=["safety"])
    assert rated.ratings == {"safety": 0.0}


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"prompt": "Q", "response": "R", "helpfulness": "4"}, "helpfulness"),
        ({"prompt": "Q", "response": ["R"]}, "response"),
        ({"response": "R"}, "prompt"),
    ],
)
def test_helpsteer2_rated_errors(row, field):
    assert located(helpsteer2_rated, row).field == field


# --- detection and lookup -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"prompt": "Q", "chosen": "a", "rejected": "b"}, "trl"),
        ({"chosen": [msg(U, "Q"), msg(A, "a")], "rejected": [msg(U, "Q"), msg(A, "b")]}, "trl-implicit"),
        ({"chosen": "Q? a", "rejected": "Q? b"}, "trl-implicit"),
        ({"chosen": "\n\nHuman: Q\n\nAssistant: a", "rejected": "\n\nHuman: Q\n\nAssistant: b"}, "hh"),
        ({"prompt": "Q", "response_1": "a", "response_2": "b", "preference_strength": 1}, "helpsteer2-preference"),
        ({"prompt": "Q", "response_1": "a", "response_2": "b", "overall_preference": 1}, "helpsteer2-preference"),
        ({"prompt": "Q", "response": "a", "helpfulness": 3}, "helpsteer2"),
    ],
)
def test_detect_format(row, expected):
    assert detect_format(row) == expected


def test_detect_format_explains_what_it_expected():
    error = located(detect_format, {"question": "Q", "answer": "a"})
    assert "['answer', 'question']" in str(error) and "format='keys'" in str(error)


def test_pair_parser_binds_keys_and_rejects_unknown_names():
    parse = pair_parser("keys", prompt_key="q")
    assert parse({"q": "Q", "chosen": "a", "rejected": "b"}).prompt == (Message(U, "Q"),)
    with pytest.raises(ConfigError, match="unknown pair format 'dpo'"):
        pair_parser("dpo")
    with pytest.raises(ConfigError, match="use load_rated"):
        pair_parser("helpsteer2")


def test_margin_is_exact_float():
    pair = trl_pair({"prompt": "Q", "chosen": "a", "rejected": "b", "margin": 0.1})
    assert math.isclose(pair.margin, 0.1) and isinstance(pair.margin, float)


HH_SHARED = "\n\nHuman: How do I pick a lock?\n\nAssistant: Why do you ask?"


def test_hh_transcripts_diverging_before_the_last_turn_are_kept_and_flagged():
    """As in 5 of the 2,312 rows of HH-RLHF harmless-base test: the sides differ in an earlier Human turn."""
    row = {"chosen": HH_SHARED + "\n\nHuman: I locked myself out.\n\nAssistant: Call a locksmith.",
           "rejected": HH_SHARED + "\n\nHuman: Just tell me.\n\nAssistant: Use a tension wrench."}
    pair = hh_pair(row)
    assert pair.prompt == (Message(U, "How do I pick a lock?"), Message(A, "Why do you ask?")) and pair.diverged
    assert pair.chosen_turns == (Message(U, "I locked myself out."),) and pair.chosen == "Call a locksmith."
    assert pair.rejected_turns == (Message(U, "Just tell me."),) and pair.rejected == "Use a tension wrench."
    error = located(hh_pair, row, strict=True)
    assert error.field == "rejected" and "strict_rows" in str(error)


def test_helpsteer2_preference_responses_diverging_early_follow_the_preferred_side():
    first = [msg(U, "more?"), msg(A, "first")]
    second = [msg(U, "other?"), msg(A, "second")]
    row = {"prompt": "Q", "response_1": first, "response_2": second, "preference_strength": 2}
    pair = helpsteer2_preference_pair(row)
    assert (pair.chosen, pair.chosen_turns, pair.rejected, pair.rejected_turns) == (
        "second", (Message(U, "other?"),), "first", (Message(U, "more?"),))
    assert "strict_rows" in str(located(helpsteer2_preference_pair, row, strict=True))


# --- reference answers and reference responses ------------------------------------------------------


def test_pairs_carry_the_rows_reference_answer_into_both_samples():
    from rewardkit.data.formats import row_references

    row = {"prompt": "6x7?", "chosen": "42", "rejected": "41", "reference_answer": "42"}
    pair = trl_pair(row)
    assert pair.reference_answer == "42" and [s.reference_answer for s in pair.samples()] == ["42", "42"]
    assert trl_pair({**row, "reference_answer": None, "answer": 42}).reference_answer == "42"  # a number as text
    assert hh_pair({"chosen": "\n\nHuman: Hi\n\nAssistant: A", "rejected": "\n\nHuman: Hi\n\nAssistant: B",
                    "answer": "A"}).reference_answer == "A"
    # `answer` is a generic name: a value that is no answer is not read; `reference_answer` must be one
    assert trl_pair({**row, "reference_answer": None, "answer": {"text": "42"}}).reference_answer is None
    assert "field 'reference_answer': must be a string or a number, got object" in str(
        located(trl_pair, {**row, "reference_answer": {"text": "42"}}))
    assert row_references({"prompt": "p", "response": "r", "reference_responses": ["a", "b"]}) == (None, ("a", "b"))
    assert "field 'reference_responses': must be a list of strings" in str(
        located(lambda r, **k: row_references(r, **k), {"reference_responses": "a"}))
