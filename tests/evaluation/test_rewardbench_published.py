"""Our RewardBench aggregation against published figures.

What is verified here, each figure with its source:
  * v1 SECTION scores and the overall from published PER-SUBSET accuracies, for four leaderboard models
    (two sequence classifiers, two generative judges; two with prior sets, two without). Per-subset
    accuracies: the leaderboard's own result files in the dataset allenai/reward-bench-results
    (eval-set/<org>/<model>.json and pref-sets/<org>/<model>.json, commits below). Published sections and
    overall: the leaderboard's rows as stored to four decimals in evaleval/every_eval_ever
    (data/reward-bench/<org>/<model>/<uuid>.json @ 758070b96fc2527afe9e3586c142493f8d0a4d97).
  * Which xstest weights the leaderboard used: the row counts (should-refuse 154, should-respond 250).
    The one version of reward-bench's rewardbench/constants.py we could read (@ a32e272b) lists 250/154;
    with those, Safety misses the published figure for every model below (test_v1_xstest_weights_...).
  * v1 overall from published SECTION scores for two more leaderboard models.
  * v2 overall from published DOMAIN scores: the unweighted mean of the six domains, for two of the
    reward models released with RewardBench 2 (their model cards' tables, one decimal).

What is NOT verified: v2 per-item best-of-4 credit and the Ties formula (no published per-item or
Ties-part figures found; only domain-level rows).
"""

from __future__ import annotations

import pytest

from rewardkit.evaluation.rewardbench import (
    V1_EXAMPLE_COUNTS,
    V1_SECTIONS,
    v1_overall,
    v1_section_scores,
)

# allenai/reward-bench rewardbench/constants.py @ a32e272b3e018467f742a1b4d18c4cc3d0317d31: EXAMPLE_COUNTS
# (we differ in the two xstest weights: see test_v1_xstest_weights_are_the_row_counts)
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


# Per-subset accuracies as published in hf.co/datasets/allenai/reward-bench-results (eval-set/ and
# pref-sets/ JSON of each model), with the leaderboard row (evaleval/every_eval_ever, path under
# data/reward-bench/) they must reproduce.
RESULTS = "hf.co/datasets/allenai/reward-bench-results"
PUBLISHED_SUBSETS_V1 = {
    "Ray2333/Gemma-2B-rewardmodel-baseline": {
        "source": f"{RESULTS} eval-set @ 5f7bbd7ac44995a7640eb7f3ce43328c73f7613a, pref-sets @ 26b8dd2 (refs/pr/6);"
                  " leaderboard row 670865e1-f219-465b-9fbe-6da6f73ac9e6.json",
        "subsets": {
            "alpacaeval-easy": 0.97, "alpacaeval-hard": 0.9789473684210527, "alpacaeval-length": 0.9052631578947369,
            "donotanswer": 0.47058823529411764, "hep-cpp": 0.8109756097560976, "hep-go": 0.8719512195121951,
            "hep-java": 0.8536585365853658, "hep-js": 0.8170731707317073, "hep-python": 0.8597560975609756,
            "hep-rust": 0.8353658536585366, "llmbar-adver-GPTInst": 0.1956521739130435,
            "llmbar-adver-GPTOut": 0.425531914893617, "llmbar-adver-manual": 0.30434782608695654,
            "llmbar-adver-neighbor": 0.40298507462686567, "llmbar-natural": 0.8, "math-prm": 0.6353467561521253,
            "mt-bench-easy": 0.9285714285714286, "mt-bench-hard": 0.7567567567567568, "mt-bench-med": 0.875,
            "refusals-dangerous": 0.72, "refusals-offensive": 0.88, "xstest-should-refuse": 0.935064935064935,
            "xstest-should-respond": 0.856,
            "anthropic_harmless": 0.4616063548102383, "anthropic_helpful": 0.6799095607235142,
            "anthropic_hhh": 0.7828054298642534, "mtbench_gpt4": 0.7554166666666666,
            "mtbench_human": 0.6819672131147541, "shp": 0.7679494543365881, "summarize": 0.5282222222222223},
        "published": {"Score": 0.729, "Chat": 0.9413, "Chat Hard": 0.4693, "Safety": 0.7865, "Reasoning": 0.7384,
                      "Prior Sets": 0.6897}},
    "meta-llama/Meta-Llama-3-70B-Instruct": {
        "source": f"{RESULTS} eval-set @ 32a55fc23b3515a6f510293f01f20a7bdc425d72, pref-sets @ "
                  "5a9dfb9e0010a5d487d23e062e50d9d55fc98269; leaderboard row f80685de-058c-4ab8-aa35-dc7321d1cea6.json",
        "subsets": {
            "alpacaeval-easy": 1.0, "alpacaeval-hard": 1.0, "alpacaeval-length": 0.9210526315789473,
            "donotanswer": 0.45588235294117646, "hep-cpp": 0.9176829268292683, "hep-go": 0.899390243902439,
            "hep-java": 0.9115853658536586, "hep-js": 0.9207317073170732, "hep-python": 0.9146341463414634,
            "hep-rust": 0.8871951219512195, "llmbar-adver-GPTInst": 0.5760869565217391,
            "llmbar-adver-GPTOut": 0.7127659574468085, "llmbar-adver-manual": 0.5543478260869565,
            "llmbar-adver-neighbor": 0.3246268656716418, "llmbar-natural": 0.83, "math-prm": 0.6621923937360179,
            "mt-bench-easy": 1.0, "mt-bench-hard": 0.8108108108108109, "mt-bench-med": 0.975,
            "refusals-dangerous": 0.64, "refusals-offensive": 0.665, "xstest-should-refuse": 0.6785714285714286,
            "xstest-should-respond": 0.972,
            "anthropic_harmless": 0.4721311475409836, "anthropic_helpful": 0.6668920746551258,
            "anthropic_hhh": 0.8416289592760181, "mtbench_gpt4": 0.846875, "mtbench_human": 0.7250372578241431,
            "shp": 0.6639862148190695, "summarize": 0.6416111111111111},
        "published": {"Score": 0.7627, "Chat": 0.9763, "Chat Hard": 0.5888, "Safety": 0.7297, "Reasoning": 0.7854,
                      "Prior Sets": 0.7035}},
    "internlm/internlm2-20b-reward": {
        "source": f"{RESULTS} eval-set @ 3b29a600ddbcbb7bbfa318f3c7697bb3ae2b657c (no prior sets run);"
                  " leaderboard row e42a9986-4dcc-4017-be97-8135646c7424.json",
        "subsets": {
            "alpacaeval-easy": 1.0, "alpacaeval-hard": 0.9789473684210527, "alpacaeval-length": 0.9789473684210527,
            "donotanswer": 0.7058823529411765, "hep-cpp": 0.9817073170731707, "hep-go": 0.9695121951219512,
            "hep-java": 0.9695121951219512, "hep-js": 0.9451219512195121, "hep-python": 0.9512195121951219,
            "hep-rust": 0.9695121951219512, "llmbar-adver-GPTInst": 0.6630434782608695,
            "llmbar-adver-GPTOut": 0.7872340425531915, "llmbar-adver-manual": 0.8695652173913043,
            "llmbar-adver-neighbor": 0.664179104477612, "llmbar-natural": 0.91, "math-prm": 0.9507829977628636,
            "mt-bench-easy": 1.0, "mt-bench-hard": 0.8378378378378378, "mt-bench-med": 1.0,
            "refusals-dangerous": 0.85, "refusals-offensive": 0.93, "xstest-should-refuse": 0.9805194805194806,
            "xstest-should-respond": 0.948},
        "published": {"Score": 0.9016, "Chat": 0.9888, "Chat Hard": 0.7654, "Safety": 0.8946, "Reasoning": 0.9576}},
    "meta-llama/Meta-Llama-3-8B-Instruct": {
        "source": f"{RESULTS} eval-set @ e00b7a3bf98749c4e98948c78117e958329717db, pref-sets @ "
                  "57a78c144cda8263b975030fe0ec7f59d08a096f; leaderboard row c8e4349d-a084-4eb5-990f-403ba930a9ad.json",
        "subsets": {
            "alpacaeval-easy": 0.91, "alpacaeval-hard": 0.9052631578947369, "alpacaeval-length": 0.7263157894736842,
            "donotanswer": 0.4742647058823529, "hep-cpp": 0.7774390243902439, "hep-go": 0.7713414634146342,
            "hep-java": 0.7347560975609756, "hep-js": 0.7560975609756098, "hep-python": 0.7530487804878049,
            "hep-rust": 0.7378048780487805, "llmbar-adver-GPTInst": 0.21739130434782608,
            "llmbar-adver-GPTOut": 0.6170212765957447, "llmbar-adver-manual": 0.34782608695652173,
            "llmbar-adver-neighbor": 0.22014925373134328, "llmbar-natural": 0.69, "math-prm": 0.5413870246085011,
            "mt-bench-easy": 0.9464285714285714, "mt-bench-hard": 0.7027027027027027, "mt-bench-med": 0.8375,
            "refusals-dangerous": 0.72, "refusals-offensive": 0.75, "xstest-should-refuse": 0.698051948051948,
            "xstest-should-respond": 0.736,
            "anthropic_harmless": 0.4848360655737705, "anthropic_helpful": 0.5807411414660536,
            "anthropic_hhh": 0.7171945701357466, "mtbench_gpt4": 0.775625, "mtbench_human": 0.6800298062593144,
            "shp": 0.5993681792073521, "summarize": 0.5356666666666666},
        "published": {"Score": 0.645, "Chat": 0.8547, "Chat Hard": 0.4156, "Safety": 0.6797, "Reasoning": 0.6482,
                      "Prior Sets": 0.6082}},
}  # fmt: skip


def test_v1_sections_except_xstest_weights_are_upstreams():
    assert {name: list(subsets) for name, subsets in V1_SECTIONS.items()} == UPSTREAM_SUBSET_MAPPING
    ours = {k: v for k, v in V1_EXAMPLE_COUNTS.items() if not k.startswith("xstest")}
    assert ours == {k: v for k, v in UPSTREAM_EXAMPLE_COUNTS.items() if not k.startswith("xstest")}


@pytest.mark.parametrize("model", sorted(PUBLISHED_SUBSETS_V1))
def test_v1_sections_and_overall_from_published_subsets(model):
    """Each published section and the overall, recomputed from the published per-subset accuracies, to the
    four published decimals (± half a unit in the last place, plus float noise)."""
    entry = PUBLISHED_SUBSETS_V1[model]
    published = dict(entry["published"])
    sections = v1_section_scores(entry["subsets"])
    assert set(sections) == set(published) - {"Score"}
    for name, figure in published.items():
        ours = v1_overall(sections) if name == "Score" else sections[name]
        assert ours == pytest.approx(figure, abs=0.5e-4 + 1e-9), (model, name, ours, figure)


def test_v1_xstest_weights_are_the_row_counts():
    """The xstest accuracies are fractions of 154 (should-refuse) and 250 (should-respond) rows, and weighting
    them so is what reproduces the published Safety; upstream's constants.py order (250/154) misses it for
    every model above, so the test above tells the two apart."""
    refuse = PUBLISHED_SUBSETS_V1["Ray2333/Gemma-2B-rewardmodel-baseline"]["subsets"]["xstest-should-refuse"]
    assert refuse * 154 == pytest.approx(round(refuse * 154), abs=1e-9) and refuse * 250 % 1 > 0.01
    assert (V1_EXAMPLE_COUNTS["xstest-should-refuse"], V1_EXAMPLE_COUNTS["xstest-should-respond"]) == (154, 250)
    for model, entry in PUBLISHED_SUBSETS_V1.items():
        swapped = v1_section_scores(entry["subsets"], UPSTREAM_EXAMPLE_COUNTS)["Safety"]
        assert abs(swapped - entry["published"]["Safety"]) > 1e-3, model


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
