"""Our RewardBench aggregation against published figures.

What is verified here, each figure with its source:
  * v1 constants: the example-count weights and the section → subset map equal upstream's
    (allenai/reward-bench, rewardbench/constants.py @ a32e272b3e018467f742a1b4d18c4cc3d0317d31).
  * v1 overall from published SECTION scores, for two leaderboard models: one with prior sets
    (2:2:2:2:1) and one without (mean of the four sections). Figures: the leaderboard's
    leaderboard/final-rbv1-data.csv (hf.co/spaces/allenai/reward-bench), as stored to four decimals in
    evaleval/every_eval_ever (paths below).
  * v2 overall from published DOMAIN scores: the unweighted mean of the six domains, for two of the
    reward models released with RewardBench 2 (their model cards' tables, one decimal).

What is NOT verified (no matching published figures found; see the docstrings below):
  * v1 SECTION scores from published PER-SUBSET accuracies. The per-subset files we could read
    (reward-bench's scripts/results/eval-set/general-preference/*.json and the README's
    beaver-7b-v1.0-cost example) do not belong to the runs the leaderboard shows: e.g. they give
    GPM-Gemma-2B a Chat of 78.5 under the upstream weights, the leaderboard says 71.51. The per-model
    JSON of allenai/reward-bench-results and the paper's appendix tables were not retrievable here.
  * Hence also which xstest weights (250/154 as in constants.py, or the 154/250 rows the data hold)
    reproduce the leaderboard's Safety column.
  * v2 per-item best-of-4 credit and the Ties formula against published per-item or Ties-part figures.
"""

from __future__ import annotations

import pytest

from rewardkit.evaluation.rewardbench import (
    V1_EXAMPLE_COUNTS,
    V1_SECTIONS,
    v1_overall,
)

# allenai/reward-bench rewardbench/constants.py @ a32e272b3e018467f742a1b4d18c4cc3d0317d31: EXAMPLE_COUNTS
UPSTREAM_EXAMPLE_COUNTS = {
    "alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95, "mt-bench-easy": 28, "mt-bench-med": 40,
    "mt-bench-hard": 37, "math-prm": 984, "refusals-dangerous": 100, "refusals-offensive": 100,
    "llmbar-natural": 100, "llmbar-adver-neighbor": 134, "llmbar-adver-GPTInst": 92, "llmbar-adver-GPTOut": 47,
    "llmbar-adver-manual": 46, "xstest-should-refuse": 250, "xstest-should-respond": 154, "donotanswer": 136,
    "hep-cpp": 164, "hep-go": 164, "hep-java": 164, "hep-js": 164, "hep-python": 164, "hep-rust": 164,
}  # fmt: skip

# Same file: SUBSET_MAPPING (section → its subsets, in upstream's order)
UPSTREAM_SUBSET_MAPPING = {
    "Chat": ["alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"],
    "Chat Hard": ["mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor", "llmbar-adver-GPTInst",
                  "llmbar-adver-GPTOut", "llmbar-adver-manual"],
    "Safety": ["refusals-dangerous", "refusals-offensive", "xstest-should-refuse", "xstest-should-respond",
               "donotanswer"],
    "Reasoning": ["math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust"],
}  # fmt: skip

# The leaderboard's v1 rows (fractions, four decimals), from evaleval/every_eval_ever:
#   beaver: data/reward-bench/PKU-Alignment/beaver-7b-v1.0-cost/36c4adc9-c2fb-4bc3-81ba-88478d30332e.json
#           @ e0f8b80fb7aab13beea489d76bb5fc6646e2a6ae
#   gpm:    data/reward-bench/general-preference/GPM-Gemma-2B/6868a1e5-ee86-4f89-8452-5e939ac19169.json
#           @ 758070b96fc2527afe9e3586c142493f8d0a4d97 (no "Prior Sets (0.5 weight)" entry: not run)
LEADERBOARD_V1 = {
    "PKU-Alignment/beaver-7b-v1.0-cost": {"Score": 0.5798, "Chat": 0.6173, "Chat Hard": 0.4232, "Safety": 0.7351,
                                          "Reasoning": 0.5482, "Prior Sets": 0.57},
    "general-preference/GPM-Gemma-2B": {"Score": 0.7449, "Chat": 0.7151, "Chat Hard": 0.6974, "Safety": 0.8122,
                                        "Reasoning": 0.755},
}  # fmt: skip

# RewardBench 2 model cards, "main" revision row: (published overall, {domain: score}), one decimal.
#   hf.co/allenai/Llama-3.1-Tulu-3-8B-SFT-RM-RB2 README.md; hf.co/allenai/Llama-3.1-70B-Instruct-RM-RB2 README.md
#   @ 664f2a01f0dd0d65072f4750c7387c45dd4c64bf
MODEL_CARDS_V2 = {
    "allenai/Llama-3.1-Tulu-3-8B-SFT-RM-RB2": (68.2, {"Factuality": 73.3, "Precise IF": 38.8, "Math": 57.9,
                                                      "Safety": 89.8, "Focus": 88.9, "Ties": 60.6}),
    "allenai/Llama-3.1-70B-Instruct-RM-RB2": (76.1, {"Factuality": 81.3, "Precise IF": 41.9, "Math": 69.9,
                                                     "Safety": 88.4, "Focus": 86.5, "Ties": 88.3}),
}  # fmt: skip


def test_v1_weights_and_sections_are_upstreams():
    assert V1_EXAMPLE_COUNTS == UPSTREAM_EXAMPLE_COUNTS
    assert {name: list(subsets) for name, subsets in V1_SECTIONS.items()} == UPSTREAM_SUBSET_MAPPING


def test_v1_xstest_weights_are_not_the_row_counts():
    """Upstream weights xstest-should-refuse 250 and -respond 154, yet its own per-subset accuracies are
    fractions of 154 and 250 rows (reward-bench scripts/results/eval-set/general-preference/GPM-Gemma-2B.json
    @ 512f175310d78a06951c3d424414a0963fdec535: 0.8506493506493507 = 131/154, 0.884 = 221/250). We keep the
    upstream weights, as the leaderboard used that table; which one its Safety figures need is unverified."""
    refuse, respond = 0.8506493506493507, 0.884
    assert refuse * 154 == pytest.approx(round(refuse * 154), abs=1e-9) and refuse * 250 % 1 > 0.01
    assert respond * 250 == pytest.approx(round(respond * 250), abs=1e-9) and respond * 154 % 1 > 0.01
    assert (V1_EXAMPLE_COUNTS["xstest-should-refuse"], V1_EXAMPLE_COUNTS["xstest-should-respond"]) == (250, 154)


@pytest.mark.parametrize("model", sorted(LEADERBOARD_V1))
def test_v1_overall_reproduces_the_leaderboard(model):
    """Sections are published to 4 decimals, so the recomputed overall may differ by ≤ 0.5e-4 plus the
    published overall's own rounding."""
    row = dict(LEADERBOARD_V1[model])
    published = row.pop("Score")
    assert v1_overall(row) == pytest.approx(published, abs=1e-4)


def test_v1_overall_weighting_is_what_tells_the_published_figures_apart():
    """The same sections under the other rule miss the published overall, so the test above can fail."""
    beaver = {k: v for k, v in LEADERBOARD_V1["PKU-Alignment/beaver-7b-v1.0-cost"].items() if k != "Score"}
    plain_mean = sum(beaver.values()) / len(beaver)
    assert abs(plain_mean - LEADERBOARD_V1["PKU-Alignment/beaver-7b-v1.0-cost"]["Score"]) > 1e-3


@pytest.mark.parametrize("model", sorted(MODEL_CARDS_V2))
def test_v2_overall_is_the_mean_of_published_domains(model, monkeypatch):
    """`rewardbench_v2` averages the domain scores it computes; feed it the published ones (each domain as
    one item whose credit is that score, via a stub) and compare with the published overall, ± one-decimal
    rounding of the inputs (0.05) and of the output (0.05)."""
    from rewardkit.evaluation import rewardbench

    published, domains = MODEL_CARDS_V2[model]
    monkeypatch.setattr(rewardbench, "v2_domain_score", lambda items: items[0][0])
    monkeypatch.setattr(rewardbench, "ties_score", lambda prompts: {"score": prompts[0]})
    result = rewardbench.rewardbench_v2({k: [[v]] for k, v in domains.items() if k != "Ties"}, ties=[domains["Ties"]])
    assert result["Score"] == pytest.approx(published, abs=0.1)
    assert list(result)[:6] == list(domains)
