import base64
import io
import re

import numpy as np
import pytest

from rewardkit.evaluation import report, report_plots
from rewardkit.evaluation.attributes import pair_attribution
from rewardkit.evaluation.best_of_n import best_of_n_curve
from rewardkit.evaluation.calibration import calibration_report
from rewardkit.evaluation.length_bias import length_bias_summary
from rewardkit.evaluation.pairwise import accuracy_by_subset, accuracy_with_ci
from rewardkit.models.base import Scores

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _inputs(n: int = 80) -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    chosen, rejected = rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n)
    chosen_len, rejected_len = rng.integers(10, 200, n), rng.integers(10, 200, n)
    margins = chosen - rejected
    metrics = {
        "model": "tiny <b>rm</b>",
        "accuracy": accuracy_with_ci(margins, n_resamples=100),
        "sections": accuracy_by_subset(margins, ["Chat", "Safety"] * (n // 2), n_resamples=100),
        "rewardbench": {"Chat": 0.8, "Score": 0.75},
        "calibration": calibration_report(margins, n_bins=5),
        "length_bias": length_bias_summary(chosen, rejected, chosen_len, rejected_len),
        "best_of_n": best_of_n_curve(rng.normal(size=(6, 4)), rng.normal(size=(6, 4))),
        "attributes": {"pairs": pair_attribution(Scores(
            [0.0] * 8, attributes={"a": rng.normal(size=8).tolist(), "b": rng.normal(size=8).tolist()},
            weights={"a": [0.25] * 8, "b": [0.75] * 8}), sections=["Chat", "Safety"] * 2)},
        "models": [
            {"name": "a", "accuracy": 0.7, "parameters": 2e7, "ms_per_pair": 2.0},
            {"name": "b", "accuracy": 0.8, "parameters": 1.3e8, "ms_per_pair": None},
            {"name": "c", "accuracy": 0.75, "parameters": 3.6e8, "ms_per_pair": 9.0},
        ],
    }
    arrays = {"chosen_rewards": chosen, "rejected_rewards": rejected,
              "chosen_lengths": chosen_len, "rejected_lengths": rejected_len}  # fmt: skip
    return metrics, arrays


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', html)]


def test_full_report_embeds_every_figure_as_png(tmp_path):
    metrics, arrays = _inputs()
    path = report.write_report(metrics, tmp_path / "out", arrays)
    assert path == tmp_path / "out" / "report.html"
    html = path.read_text()
    images = _images(html)
    assert len(images) == 7 and all(image.startswith(PNG_SIGNATURE) for image in images)
    assert "Not shown" not in html
    assert "tiny &lt;b&gt;rm&lt;/b&gt;" in html and "<b>rm</b>" not in html  # text is escaped
    assert "src=\"http" not in html and "<script" not in html  # nothing fetched when opened offline
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]  # no temp file left


def test_missing_data_skips_figures_cleanly(tmp_path):
    metrics, _ = _inputs()
    # two models, but no cost that both report: no Pareto plot
    one_cost_each = [{"name": "a", "accuracy": 0.7, "parameters": 2e7},
                     {"name": "b", "accuracy": 0.8, "ms_per_pair": 3.0}]
    partial = {"accuracy": metrics["accuracy"], "models": one_cost_each}
    html = report.write_report(partial, tmp_path).read_text()
    assert _images(html) == []
    assert "Not shown: Accuracy by section" in html and "needs two or more models with the same cost" in html
    assert "Pairwise accuracy" in html


def test_models_table_sets_a_judge_beside_scalar_models_with_cis_and_its_rates(tmp_path, capsys):
    from rewardkit.evaluation.comparison import model_row

    scalar = {"accuracy": {"accuracy": 0.6, "ci_low": 0.5, "ci_high": 0.7, "n": 50}, "parameters": 2e7,
              "ms_per_pair": 2.0, "generated_tokens_per_pair": 0.0, "null_model": {"win_rate": 0.25}}
    judge = {"accuracy": {"accuracy": 0.8, "ci_low": 0.65, "ci_high": 0.9, "n": 50}, "parameters": 1.3e8,
             "ms_per_pair": 900.0, "generated_tokens_per_pair": 16.0, "null_model": {"win_rate": 0.5},
             "judge": {"unparseable_rate": 0.125, "position_consistency": 0.75}}
    models = [model_row("rm", scalar), model_row("judge:pairwise", judge)]
    metrics = {"accuracy": scalar["accuracy"], "models": models}
    html = report.write_report(metrics, tmp_path).read_text()
    table = html.split("<h2>Models</h2>")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    assert re.findall(r"<td>(.*?)</td>", rows[1]) == ["rm", "0.600 [0.500, 0.700]", "20M", "2", "0", "0.250", "—",
                                                      "—"]
    assert re.findall(r"<td>(.*?)</td>", rows[2]) == ["judge:pairwise", "0.800 [0.650, 0.900]", "130M", "900", "16",
                                                      "0.500", "0.125", "0.750"]
    assert len(_images(html)) == 1  # accuracy vs cost: one figure, one panel per cost
    assert [key for key, _ in report_plots.pareto_axes(models)] == ["parameters", "ms_per_pair",
                                                                    "generated_tokens_per_pair"]
    report.print_table(metrics)
    assert "0.125" in capsys.readouterr().out


def test_failing_plot_leaves_no_file(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(report_plots, "reliability", broken)
    metrics, arrays = _inputs()
    with pytest.raises(RuntimeError, match="plot failed"):
        report.write_report(metrics, tmp_path, arrays)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_report_and_removes_the_temp_file(tmp_path, monkeypatch):
    (tmp_path / "report.html").write_text("old report")

    def failing_replace(src, dst):
        assert open(src).read().startswith("<!doctype html>")  # the new file was fully written
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", failing_replace)
    metrics, _ = _inputs()
    with pytest.raises(OSError, match="disk full"):
        report.write_report({"accuracy": metrics["accuracy"]}, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert (tmp_path / "report.html").read_text() == "old report"


def test_unknown_keys_and_misaligned_arrays_are_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown report metrics \\['acuracy'\\]"):
        report.write_report({"acuracy": {}}, tmp_path)
    with pytest.raises(ValueError, match="aligned by pair"):
        report.write_report({}, tmp_path, {"chosen_rewards": [1.0, 2.0], "rejected_rewards": [1.0]})


def test_pareto_front_keeps_only_undominated_models():
    cost = np.array([1.0, 2.0, 3.0, 4.0])
    accuracy = np.array([0.6, 0.8, 0.7, 0.9])  # the third is beaten by the second: cheaper and better
    assert report_plots._pareto_front(cost, accuracy).tolist() == [0, 1, 3]


def test_print_table_shows_the_summary():
    from rich.console import Console

    metrics, _ = _inputs()
    buffer = io.StringIO()
    report.print_table(metrics, console=Console(file=buffer, width=120))
    text = buffer.getvalue()
    acc = metrics["accuracy"]
    assert f"{acc['accuracy']:.3f} [{acc['ci_low']:.3f}, {acc['ci_high']:.3f}] (n=80)" in text
    assert "ECE (T=1 → fitted)" in text and "Best-of-4" in text
    assert "130M" in text and "—" in text  # parameters in compact form, a missing cost as a dash
