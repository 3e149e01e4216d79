"""run_quickstart's pipeline (data → training → evaluation → metrics.json) on a tiny random-init backbone: the
same seed gives the same figures. The real run on MiniLM is tests/test_quickstart_slow.py."""

import json

from rewardkit.cli.quickstart import QuickstartPlan, run_quickstart


def test_quickstart_with_the_same_seed_gives_the_same_figures(tiny_bert, tmp_path, monkeypatch):
    from rewardkit.models import defaults

    monkeypatch.setattr(defaults, "minilm_path", lambda: tiny_bert)  # the backbone run_quickstart builds on
    plan = QuickstartPlan(n_pairs=200, steps=3, batch_size=8, max_length=64)
    timing = ("train_seconds", "total_seconds")
    first, again = ({k: v for k, v in run_quickstart(tmp_path / name, plan, seed=3, show_progress=False).items()
                     if k not in timing} for name in ("a", "b"))
    assert first == again  # accuracies, per-family figures, CIs, counts
    assert first["steps"] == 3 and first["n_test"] > 0 and first["n_heldout"] > 0
    logs = [[{k: v for k, v in json.loads(line).items() if k != "seconds"}  # every logged figure but the clock
             for line in (tmp_path / name / "train_log.jsonl").read_text().splitlines()] for name in ("a", "b")]
    assert logs[0] == logs[1]
    assert len([record for record in logs[0] if "loss" in record]) == 3  # every step: the comparison covers the run
