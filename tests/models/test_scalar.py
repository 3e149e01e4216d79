"""Scalar models: scores do not depend on batch size, padding side or pad == eos; HF round trip."""

import pytest
import torch

import rewardkit
from rewardkit import PreferencePair, Sample
from rewardkit.data.schemas import as_conversation
from rewardkit.errors import ModelLoadError
from rewardkit.models import scalar
from rewardkit.models.base import compare
from rewardkit.models.defaults import minilm_path

SAMPLES = [
    Sample.from_text("What is 2+2?", "4"),
    Sample.from_text("Name a colour.", "Blue is a colour that many people like a great deal."),
    Sample(as_conversation([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]), "Hello!"),
    Sample.from_text("Tell me a long story about a fox and a hen. " * 3, "Once upon a time there was a fox."),
]


def alone(model, samples):
    return [model.score([s]).rewards[0] for s in samples]


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_llama", "tiny_llama_pad_eos"])
def test_scores_do_not_depend_on_batching(fixture, request):
    model = scalar.load(request.getfixturevalue(fixture))
    one_by_one = alone(model, SAMPLES)
    together = model.score(SAMPLES, batch_size=4).rewards
    in_pairs = model.score(SAMPLES, batch_size=2).rewards
    assert together == pytest.approx(one_by_one, abs=1e-5)
    assert in_pairs == pytest.approx(one_by_one, abs=1e-5)
    assert len(set(round(r, 4) for r in one_by_one)) > 1  # a constant model would pass trivially


@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_llama_pad_eos"])
def test_decoder_left_and_right_padding_agree(fixture, request):
    right = scalar.load(request.getfixturevalue(fixture), padding_side="right")
    left = scalar.load(request.getfixturevalue(fixture), padding_side="left")
    batch = left.collate(left.encoder.encode_many(SAMPLES))
    assert batch["attention_mask"][:, 0].min() == 0  # the batch really is left-padded
    assert left.score(SAMPLES).rewards == pytest.approx(right.score(SAMPLES).rewards, abs=1e-5)


def test_pad_equal_eos_pools_the_last_real_token(tiny_llama_pad_eos):
    model = scalar.load(tiny_llama_pad_eos)
    encoded = model.encoder.encode(SAMPLES[0])
    assert encoded.input_ids[-1] == model.tokenizer.pad_token_id  # the sequence ends with the pad id
    batch = model.collate([encoded])
    index = scalar.last_token_index(batch["attention_mask"])
    assert index.item() == len(encoded.input_ids) - 1


def test_last_token_index_both_sides():
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    assert scalar.last_token_index(mask).tolist() == [2, 4, 4]


def test_saved_model_scores_the_same_in_plain_transformers(tiny_bert, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rewardkit.data.chat import render_plain

    model = scalar.load(tiny_bert)
    model.save(tmp_path / "model")
    hf = AutoModelForSequenceClassification.from_pretrained(tmp_path / "model").eval()
    tok = AutoTokenizer.from_pretrained(tmp_path / "model")
    for sample, reward in zip(SAMPLES, model.score(SAMPLES).rewards):
        with torch.no_grad():
            logit = hf(**tok(render_plain(sample.prompt), sample.response, return_tensors="pt")).logits
        assert logit.item() == pytest.approx(reward, abs=1e-5)


def test_built_encoders_read_one_segment_here_and_in_plain_transformers(tiny_bert, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rewardkit.data.chat import render_plain

    built = scalar.build(tiny_bert)
    encoded = built.encoder.encode(SAMPLES[1])
    assert encoded.token_type_ids is None
    assert encoded.input_ids[encoded.response_start - 1] == built.tokenizer.sep_token_id  # [CLS] prompt [SEP] | response
    assert "token_type_ids" not in built.collate([encoded])
    built.save(tmp_path / "model")
    tok = AutoTokenizer.from_pretrained(tmp_path / "model")
    hf = AutoModelForSequenceClassification.from_pretrained(tmp_path / "model").eval()
    inputs = tok(render_plain(SAMPLES[1].prompt), SAMPLES[1].response, return_tensors="pt")
    assert "token_type_ids" not in inputs
    with torch.no_grad():
        assert hf(**inputs).logits.item() == pytest.approx(built.score([SAMPLES[1]]).rewards[0], abs=1e-5)
        # the same weights fed segment ids score differently: the saved tokenizer is what keeps them out
        segments = torch.tensor([[0] * encoded.response_start + [1] * (len(encoded.input_ids) - encoded.response_start)])
        assert hf(**inputs, token_type_ids=segments).logits.item() != pytest.approx(hf(**inputs).logits.item(), abs=1e-6)
    assert scalar.load(tiny_bert).encoder.encode(SAMPLES[1]).token_type_ids is not None  # foreign folders keep theirs


def test_rewardkit_load_reads_family_and_plain_hf_folders(tiny_llama, tmp_path):
    plain = rewardkit.load(tiny_llama)  # no rewardkit.json: any HF seq-cls model is a scalar model
    assert plain.family == "scalar"
    plain.options.reward_mean, plain.options.reward_std = 1.0, 2.0
    plain.save(tmp_path / "saved")
    again = rewardkit.load(str(tmp_path / "saved"))
    assert again.options.reward_std == 2.0
    assert again.score(SAMPLES).rewards == pytest.approx(plain.score(SAMPLES).rewards, abs=1e-6)
    normalized = rewardkit.load(str(tmp_path / "saved"), normalize=True).score(SAMPLES).rewards
    assert normalized == pytest.approx([(r - 1.0) / 2.0 for r in plain.score(SAMPLES).rewards], abs=1e-6)


def test_normalize_without_stored_statistics_is_refused(tiny_llama):
    """A model rewardkit did not train stores no reward mean and std; normalize used 0 and 1 for them, so
    --normalize returned the raw rewards as if they were normalised."""
    from rewardkit.errors import ModelLoadError
    from rewardkit.models.base import reward_statistics

    assert reward_statistics(rewardkit.load(tiny_llama)) is None  # the server's normalize z refuses it too
    with pytest.raises(ModelLoadError, match="normalize needs the mean and standard deviation .* has none"):
        rewardkit.load(tiny_llama, normalize=True)


def test_compare_is_chosen_minus_rejected(tiny_bert):
    model = scalar.load(tiny_bert)
    pair = PreferencePair(SAMPLES[0].prompt, "4", "5")
    chosen, rejected = model.score(list(pair.samples())).rewards
    assert compare(model, [pair]) == pytest.approx([chosen - rejected])


def test_long_samples_are_truncated_and_counted(tiny_bert):
    model = scalar.load(tiny_bert, max_length=32)
    long = Sample.from_text("word " * 200, "the answer")
    scores = model.score([long, SAMPLES[0]])
    assert scores.truncated == 1
    encoded = model.encoder.encode(long)
    assert len(encoded.input_ids) == 32
    tail = model.tokenizer.decode(encoded.input_ids[encoded.response_start:], skip_special_tokens=True)
    assert tail == "the answer"  # the prompt lost its left, the response is whole


def test_folder_without_weights_is_a_clear_error(tiny_bert, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_bert, broken)
    for weights in broken.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(ModelLoadError, match=r"broken has no \*\.safetensors weights"):
        rewardkit.load(str(broken))
    with pytest.raises(ModelLoadError, match="does not exist"):
        rewardkit.load(str(tmp_path / "missing"))


def test_unknown_option_in_manifest_is_an_error(tiny_bert):
    with pytest.raises(ModelLoadError, match="unknown scalar option"):
        scalar.load(tiny_bert, temperature=2.0)


def test_a_model_rewardkit_did_not_save_reads_as_long_as_it_can_up_to_8192(tmp_path, minilm_tokenizer):
    """A plain HF reward model got max_length 512 whatever it could read, so a decoder RM with an 8k context cut
    every long conversation to 512 tokens; now its own limit (tokenizer and position embeddings), at most 8192."""
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(0)
    for positions, expected in ((2048, 2048), (32768, 8192)):
        config = LlamaConfig(vocab_size=minilm_tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=2, intermediate_size=64,
                             max_position_embeddings=positions, num_labels=1, pad_token_id=0)
        folder = tmp_path / f"llama{positions}"
        LlamaForSequenceClassification(config).save_pretrained(folder)
        minilm_tokenizer.__class__.from_pretrained(minilm_path(), model_max_length=10**30).save_pretrained(folder)
        model = rewardkit.load(str(folder))
        assert model.options.max_length == expected
        long = Sample.from_text("Tell me a story.", " ".join(["word"] * 900))
        assert model.score([long]).truncated == 0  # 900 tokens fit; at 512 they were cut
        assert rewardkit.load(str(folder), max_length=256).options.max_length == 256  # asked for: as asked


def test_plain_classifier_with_several_outputs_needs_the_reward_chosen(sentiment_classifier):
    """Output 0 was the reward of any plain classifier: for a NEGATIVE/POSITIVE classifier, the wrong logit, with
    no warning. Which output is the reward cannot be known, so the user is asked, with the ways to say it."""
    with pytest.raises(ModelLoadError) as error:
        rewardkit.load(sentiment_classifier)
    message = str(error.value)
    assert sentiment_classifier in message and "2 outputs (NEGATIVE, POSITIVE)" in message
    assert '"reward_weights": [0, 1]' in message and "reward_weights=[0, 1]" in message

    positive = rewardkit.load(sentiment_classifier, reward_weights=[0, 1])
    assert positive.options.attributes == ["NEGATIVE", "POSITIVE"]
    scores = positive.score(SAMPLES)
    assert scores.rewards == pytest.approx(scores.attributes["POSITIVE"], abs=1e-6)


def test_reward_weights_must_match_the_outputs(sentiment_classifier):
    with pytest.raises(ModelLoadError, match="3 reward weights for 2 head outputs"):
        rewardkit.load(sentiment_classifier, reward_weights=[0, 1, 0])


def test_a_manifest_beside_a_plain_classifier_chooses_its_reward(sentiment_classifier, tmp_path):
    """The remedy the error gives for every command: a rewardkit.json beside the weights."""
    import json
    import shutil

    folder = shutil.copytree(sentiment_classifier, tmp_path / "sentiment")
    (folder / "rewardkit.json").write_text(json.dumps({"family": "scalar", "options": {"reward_weights": [0, 1]}}))
    model = rewardkit.load(str(folder))
    assert model.score(SAMPLES).rewards == pytest.approx(
        rewardkit.load(sentiment_classifier, reward_weights=[0, 1]).score(SAMPLES).rewards, abs=1e-6)


def test_a_name_that_is_no_folder_here_says_so(monkeypatch, tmp_path):
    """`--model mymodel` (a typo, or a folder elsewhere) is looked up on the hub; the error said only that the
    hub could not be reached."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # no download attempt in tests
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelLoadError, match=f"no-such-model is not a folder in {tmp_path}, so it was looked up "
                                             "as a Hugging Face hub id"):
        rewardkit.load("no-such-model")
