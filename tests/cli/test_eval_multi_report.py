"""`rewardkit eval` of a multi-objective model on the verifiable suite: metrics.json and report.html show each
attribute's mean value, gate weight and contribution per section of the suite, with the numbers the model's own
scores give, and the heatmap of weights and contributions."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
import torch

from rewardkit.models import multi
from rewardkit.synth import suite as verifiable
from tests.helpers import run_cli

ATTRIBUTES = ["helpfulness", "safety", "verbosity"]


def expected_means(model, pairs, sections):
    """section → attribute → (mean value, mean weight, mean weight × value) over both responses of its pairs,
    from the model's scores, summed by hand."""
    scores = model.score([s for p in pairs for s in p.samples()])
    sums = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    counts = defaultdict(int)
    for i, section in enumerate(sections):
        counts[section] += 2
        for name in ATTRIBUTES:
            for row in (2 * i, 2 * i + 1):
                value, weight = scores.attributes[name][row], scores.weights[name][row]
                entry = sums[section][name]
                entry[0], entry[1], entry[2] = entry[0] + value, entry[1] + weight, entry[2] + weight * value
    return {section: {name: [total / counts[section] for total in sums[section][name]] for name in ATTRIBUTES}
            for section in sums}


def spread_gate_model(tiny_bert, folder):
    """A multi model whose gate output is spread, so that the weights differ between prompts and sections; saved."""
    model = multi.build(tiny_bert, attributes=ATTRIBUTES, max_length=64, seed=0)
    with torch.no_grad():
        model.heads.gate.layers[2].weight.mul_(50.0)
    return model, model.save(folder)


def assert_contributions_match(reported, expected, labels):
    """Each group's pair count and each attribute's mean value, weight and contribution as summed by hand."""
    for group, by_attribute in expected.items():
        assert reported[group]["n"] == labels.count(group)
        for name, (value, weight, contribution) in by_attribute.items():
            entry = reported[group]["attributes"][name]
            assert (entry["value"], entry["weight"], entry["contribution"]) == pytest.approx(
                (value, weight, contribution), abs=1e-5)


def test_eval_reports_attribute_contributions_per_section(tiny_bert, tmp_path, monkeypatch, capsys):
    model, folder = spread_gate_model(tiny_bert, tmp_path / "model")
    out = tmp_path / "eval"
    code, stdout, err = run_cli(["eval", "--model", str(folder), "--suite", "verifiable", "--n", "2", "--out",
                                 str(out)], monkeypatch, capsys)
    assert code == 0, err

    pairs = [sp.pair for sp in verifiable.build_suite(2, verifiable.DEFAULT_SEED)]
    sections = [verifiable.section_of(p.subset) for p in pairs]
    expected = expected_means(model, pairs, sections)
    reported = json.loads((out / "metrics.json").read_text())["attributes"]["pairs"]["contributions"]["sections"]
    assert set(reported) == set(expected) == {"chat", "chat-hard", "length-adversarial", "reasoning", "safety"}
    assert_contributions_match(reported, expected, sections)
    weights_seen = set()
    page = (out / "report.html").read_text()
    for section, by_attribute in expected.items():
        for name in by_attribute:
            entry = reported[section]["attributes"][name]
            row = entry["value"], entry["weight"], entry["contribution"], entry["margin"]
            cells = "".join(f"<td>{number:.3f}</td>" for number in row)
            assert f"<tr><td>{section}</td><td>{sections.count(section)}</td><td>{name}</td>{cells}</tr>" in page
            weights_seen.add(round(entry["weight"], 3))
    assert len(weights_seen) > 3  # the weights differ by section: the table is not one row repeated
    assert "<figcaption>Attribute weights and contributions by section</figcaption>" in page
    assert "attribute contributions by section" in stdout


def test_a_pairs_file_with_a_broken_row_skipped_gives_attributes_on_the_kept_pairs(tiny_bert, tmp_path, monkeypatch,
                                                                                    capsys):
    from tests.helpers import preference_flipping_multi

    folder, first, second = preference_flipping_multi(tiny_bert, tmp_path / "model")
    good = {"prompt": first.prompt[-1].content, "chosen": first.response, "rejected": second.response}
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join([json.dumps({**good, "subset": "a"}), json.dumps({"prompt": "no answers"}),
                                json.dumps({**good, "subset": "b"}), json.dumps({**good, "subset": "b"})]) + "\n")
    out = tmp_path / "eval"
    code, _, err = run_cli(["eval", "--model", str(folder), "--suite", str(pairs), "--on-bad-rows", "skip", "--out",
                            str(out)], monkeypatch, capsys)
    assert code == 0, err
    contributions = json.loads((out / "metrics.json").read_text())["attributes"]["pairs"]["contributions"]
    assert contributions["overall"]["n"] == 3
    assert {name: entry["n"] for name, entry in contributions["sections"].items()} == {"a": 1, "b": 2}


def test_ratings_on_a_model_without_attributes_is_an_error_saying_so(tiny_bert, tmp_path, monkeypatch, capsys):
    from rewardkit.synth.multi_attribute import pair_rows, rating_rows
    from tests.helpers import write_jsonl

    pairs, ratings = write_jsonl(tmp_path / "p.jsonl", pair_rows(4, 0)), write_jsonl(tmp_path / "r.jsonl",
                                                                                      rating_rows(4, 1))
    code, _, err = run_cli(["eval", "--model", tiny_bert, "--suite", str(pairs), "--ratings", str(ratings), "--out",
                            str(tmp_path / "eval")], monkeypatch, capsys)
    assert code == 2 and "gives one number per sample and no per-attribute values" in err, err


def test_every_multi_model_compared_gets_its_attribute_tables(tiny_bert, tmp_path, monkeypatch, capsys):
    folders = []
    for seed in (0, 1):
        model = multi.build(tiny_bert, attributes=ATTRIBUTES, max_length=64, seed=seed)
        folders.append(str(model.save(tmp_path / f"model{seed}")))
    out = tmp_path / "eval"
    code, stdout, err = run_cli(["eval", "--model", folders[0], "--model", folders[1], "--suite", "verifiable",
                                 "--n", "2", "--out", str(out)], monkeypatch, capsys)
    assert code == 0, err
    page = (out / "report.html").read_text()
    by_model = json.loads((out / "metrics.json").read_text())["by_model"]
    for folder in folders:
        assert f"<h2>Attribute contributions by section: {folder}</h2>" in page
        assert f"attributecontributionsbysection:{folder}" in "".join(stdout.split())  # rich wraps long titles
        helpfulness = by_model[folder]["attributes"]["pairs"]["contributions"]["sections"]["chat"]["attributes"][
            "helpfulness"]
        assert f"<td>{helpfulness['value']:.3f}</td>" in page  # each model's own numbers


RB2_ROWS = [
    {"prompt": "What is 12 times 3?", "chosen": ["12 times 3 is 36."], "subset": "Math", "id": "0",
     "rejected": ["12 times 3 is 38.", "It is 15.", "I would rather not say."]},
    {"prompt": "Name a prime number.", "chosen": ["7 is prime."], "subset": "Math", "id": "1",
     "rejected": ["9 is prime.", "Primes do not exist.", "1."]},
    {"prompt": "Write one sentence about tea.", "chosen": ["Tea is brewed from the leaves of a shrub."],
     "rejected": ["Coffee is great.", "no", "Tea tea tea tea tea."], "subset": "Focus", "id": "2"},
    {"prompt": "Name a colour.", "chosen": ["Blue.", "Red."], "rejected": ["Seven."], "subset": "Ties",
     "num_correct": 2, "id": "tied:3"},
]


def test_rewardbench2_reports_attribute_contributions_per_domain(tiny_bert, tmp_path, monkeypatch, capsys):
    """A multi model on a local RewardBench 2 copy: each correct completion against each incorrect one of its item
    (Ties too), the contributions per domain equal to the model's own scores of those responses summed by hand."""
    from rewardkit.data.schemas import PreferencePair, as_conversation
    from tests.helpers import write_jsonl

    model, folder = spread_gate_model(tiny_bert, tmp_path / "model")
    data, out = write_jsonl(tmp_path / "rb2.jsonl", RB2_ROWS), tmp_path / "eval"
    code, stdout, err = run_cli(["eval", "--model", str(folder), "--suite", "rewardbench2", "--data", str(data),
                                 "--out", str(out)], monkeypatch, capsys)
    assert code == 0, err

    pairs = [PreferencePair(as_conversation(row["prompt"]), good, bad, subset=row["subset"])
             for row in RB2_ROWS for good in row["chosen"] for bad in row["rejected"]]
    domains = [p.subset for p in pairs]
    assert domains.count("Math") == 6 and domains.count("Focus") == 3 and domains.count("Ties") == 2
    expected = expected_means(model, pairs, domains)
    metrics = json.loads((out / "metrics.json").read_text())
    reported = metrics["attributes"]["pairs"]["contributions"]["sections"]
    assert set(reported) == {"Math", "Focus", "Ties"}
    assert_contributions_match(reported, expected, domains)
    scores = model.score([s for p in pairs for s in p.samples()])
    gated_wins = sum(c > r for c, r in zip(scores.rewards[0::2], scores.rewards[1::2])) / len(pairs)
    assert metrics["attributes"]["pairs"]["gated"]["accuracy"] == pytest.approx(gated_wins)
    assert metrics["sections"]["Math"]["n"] == 2  # RewardBench 2's own figures stay per item
    assert "attribute contributions by section" in stdout
    page = (out / "report.html").read_text()
    assert "<figcaption>Attribute weights and contributions by section</figcaption>" in page
