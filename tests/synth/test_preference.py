"""The generator: determinism, verified labels, balance, held-out split, JSONL round trip."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from rewardkit.data.schemas import Message
from rewardkit.errors import ConfigError, DataError
from rewardkit.synth import (
    DEFAULT_FAMILIES,
    DEFAULT_HELDOUT_FAMILIES,
    FAMILIES,
    from_jsonl_row,
    generate_pairs,
    split_by_family,
    to_jsonl_row,
    verify,
)


@pytest.fixture(scope="module")
def every_family_pairs():
    return generate_pairs(3000, seed=7, families=list(FAMILIES))


def test_same_seed_same_pairs_and_different_seed_different_pairs():
    assert generate_pairs(200, seed=1) == generate_pairs(200, seed=1)
    first, other = generate_pairs(200, seed=1), generate_pairs(200, seed=2)
    assert first != other
    assert len({p.pair.id for p in first} & {p.pair.id for p in other}) < 20  # only tiny families can collide


def test_every_check_passes_chosen_and_fails_rejected(every_family_pairs):
    for sp in every_family_pairs:
        assert verify(sp.check, sp.pair.chosen), (sp.family, sp.check, sp.pair.chosen)
        assert not verify(sp.check, sp.pair.rejected), (sp.family, sp.check, sp.pair.rejected)


def test_pairs_are_well_formed(every_family_pairs):
    for sp in every_family_pairs:
        assert sp.pair.subset == sp.family and sp.pair.id.startswith(sp.family + "-")
        assert sp.pair.prompt[0].role == "user" and sp.pair.chosen != sp.pair.rejected
        assert len((sp.pair.prompt[0].content + sp.pair.chosen).split()) < 150  # short enough for MiniLM


def test_balanced_across_families():
    counts = Counter(sp.family for sp in generate_pairs(1000, seed=0))
    assert set(counts) == set(DEFAULT_FAMILIES)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_default_families_leave_out_case_only():
    assert set(FAMILIES) - set(DEFAULT_FAMILIES) == {"letter_case"}
    assert len(DEFAULT_HELDOUT_FAMILIES) == 2 and set(DEFAULT_HELDOUT_FAMILIES) <= set(DEFAULT_FAMILIES)


def test_a_family_yields_the_same_pairs_whatever_else_is_generated():
    alone = generate_pairs(20, seed=5, families=["arithmetic"])
    mixed = [sp for sp in generate_pairs(40, seed=5, families=["arithmetic", "fact_lookup"]) if sp.family == "arithmetic"]
    assert {sp.pair.id for sp in alone} == {sp.pair.id for sp in mixed}


def test_length_is_not_a_shortcut():
    """"The longer answer wins" (a tie is worth a coin) is near chance on the default training mix."""
    pairs = generate_pairs(2000, seed=3)
    lengths = [(len(sp.pair.chosen.split()), len(sp.pair.rejected.split())) for sp in pairs]
    longer_wins = sum(1.0 if c > r else 0.5 if c == r else 0.0 for c, r in lengths) / len(pairs)
    assert 0.4 < longer_wins < 0.6


def test_split_by_family_holds_out_exactly_the_named_families():
    pairs = generate_pairs(300, seed=0)
    train, heldout = split_by_family(pairs, DEFAULT_HELDOUT_FAMILIES)
    assert {sp.family for sp in heldout} == set(DEFAULT_HELDOUT_FAMILIES)
    assert not {sp.family for sp in train} & set(DEFAULT_HELDOUT_FAMILIES)
    assert len(train) + len(heldout) == len(pairs)
    plain_train, plain_held = split_by_family([sp.pair for sp in pairs], ["arithmetic"])
    assert {p.subset for p in plain_held} == {"arithmetic"} and len(plain_train) + len(plain_held) == len(pairs)


def test_jsonl_row_round_trips(every_family_pairs):
    for sp in every_family_pairs[:200]:
        row = json.loads(json.dumps(to_jsonl_row(sp)))
        assert set(row) == {"prompt", "chosen", "rejected", "subset", "id", "check"}
        assert row["prompt"] == [{"role": "user", "content": sp.pair.prompt[0].content}]
        assert from_jsonl_row(row) == sp


def test_from_jsonl_row_accepts_a_plain_string_prompt():
    sp = from_jsonl_row({"prompt": "Hi", "chosen": "a", "rejected": "b", "check": {"kind": "max_words", "n": 1}})
    assert sp.pair.prompt == (Message("user", "Hi"),) and sp.pair.subset is None


def test_from_jsonl_row_names_the_missing_field():
    with pytest.raises(DataError, match="field 'check'"):
        from_jsonl_row({"prompt": "Hi", "chosen": "a", "rejected": "b"})


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="unknown synth families"):
        generate_pairs(10, families=["nope"])
    with pytest.raises(ConfigError):
        generate_pairs(10, families=[])
    with pytest.raises(ConfigError, match="unknown synth families"):
        split_by_family([], ["nope"])
    assert generate_pairs(0) == []
