"""The Ray engine writes exactly what the local engine writes (same rows, same order, same floats), resumes a
partial output, and its chunks are the local engine's chunks. One local 2-CPU Ray instance for the module."""

import json

import pytest

from rewardkit.scale.batch_scoring import RowRules, ScoreReport, _chunks
from rewardkit.errors import DataError
from rewardkit.scale.chunks import index_chunks, read_chunk
from rewardkit.scale.ray_engine import _original_error
from tests.helpers import run_cli as run, write_jsonl

ROWS = [
    {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"},
    {"prompt": [{"role": "user", "content": "Say hi"}], "chosen": "Hi!", "rejected": "No."},
    {"prompt": "Name a fruit", "response": "An apple."},
    {"chosen": "\n\nHuman: Hello\n\nAssistant: Hello, how can I help?", "rejected": "\n\nHuman: Hello\n\nAssistant: Go."},
] * 5
DIVERGED = {"chosen": "\n\nHuman: Hi\n\nAssistant: Yo\n\nHuman: Joke?\n\nAssistant: Knock knock.",
            "rejected": "\n\nHuman: Hi\n\nAssistant: Yo\n\nHuman: Rhyme?\n\nAssistant: No."}
ODD_ROWS = ROWS[:6] + [DIVERGED, '{"prompt": "cut off', {"prompt": "x", "chosen": "y"}] + ROWS[6:]
"""ROWS with a pair diverging before its last turn (line 8) and two broken rows (lines 9 and 10)."""


def write_input(path, rows=ROWS):
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    lines.insert(3, "")  # a blank line: skipped by both engines
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("skip", [0, 3, 7, 20])
@pytest.mark.parametrize("rows", ["plain", "odd, skipped"])
def test_chunks_read_by_offset_match_the_local_chunks(tmp_path, skip, rows):
    rules = RowRules(on_bad_rows="skip") if rows == "odd, skipped" else RowRules()
    source = str(write_input(tmp_path / "in.jsonl", ODD_ROWS if rows == "odd, skipped" else ROWS))
    local = list(_chunks(source, 4, skip, rules))
    remote = [read_chunk(source, ref, rules) for ref in index_chunks(source, 4, skip)]
    assert remote == local


def test_a_bad_row_names_its_line(tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_text('{"prompt": "a", "response": "b"}\n{"prompt": \n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2"):
        [read_chunk(str(source), ref) for ref in index_chunks(str(source), 8)]


def test_worker_errors_are_unwrapped():
    original = DataError("missing", file="f.jsonl", line=3)
    wrapped = RuntimeError("task failed")
    wrapped.__cause__ = original
    assert _original_error(wrapped) is original
    plain = ValueError("x")
    assert _original_error(plain) is plain


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def score_cli(engine, model, source, target, monkeypatch, capsys, *extra):
    code, _, err = run(["score", "--engine", engine, "--model", model, "--input", str(source), "--output", str(target),
                     "--batch-size", "3", "--chunk-rows", "4", *extra], monkeypatch, capsys)
    assert code == 0, err
    return " ".join(err.split())


def test_ray_engine_output_equals_local_engine_output(ray_instance, tiny_bert, tmp_path, monkeypatch, capsys):
    """4-row chunks, so both actors work at once and order matters; odd rows (a diverging pair, two broken
    rows skipped) counted alike. (Resume needs no second, slow Ray run: the Ray chunks after a resume point
    are the local ones, tested above, and both engines share the writer.)"""
    source = write_input(tmp_path / "in.jsonl", ODD_ROWS)
    outputs = {}
    for engine in ("local", "ray"):
        target = tmp_path / f"{engine}.jsonl"
        err = score_cli(engine, tiny_bert, source, target, monkeypatch, capsys, "--on-bad-rows", "skip")
        assert "scored 23 rows (16 pairs, 5 single responses)" in err
        assert "1 pairs scored whose conversations diverge" in err and "2 broken rows skipped" in err
        outputs[engine] = target.read_bytes(), (tmp_path / f"{engine}.skipped_rows.jsonl").read_bytes()
    assert outputs["ray"] == outputs["local"]


SHAPED_ROWS = [
    {"prompt": "What is 2+2?", "response": "<answer>4</answer>", "reference_responses": ["5", "four"]},
    {"prompt": "Say hi", "response": "Hi!", "reference_responses": ["Go away."]},
    {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5", "reference_responses": ["four"]},
] * 3


def test_ray_and_local_give_the_same_shaped_and_combined_scores(ray_instance, tiny_bert, tmp_path, monkeypatch,
                                                                 capsys):
    import math

    source = write_input(tmp_path / "in.jsonl", SHAPED_ROWS)
    outputs = {}
    for engine in ("local", "ray"):
        target = tmp_path / f"{engine}.jsonl"
        score_cli(engine, tiny_bert, source, target, monkeypatch, capsys, "--shaping", "par", "--combine",
                  "rm + 0.5*format")
        outputs[engine] = target.read_text()
    assert outputs["ray"] == outputs["local"]
    # The first row by hand from plain scores of the response and its references.
    plain_rows = [{"prompt": "What is 2+2?", "response": r} for r in ("<answer>4</answer>", "5", "four")]
    plain = write_input(tmp_path / "plain_in.jsonl", plain_rows)
    score_cli("local", tiny_bert, plain, tmp_path / "plain.jsonl", monkeypatch, capsys)
    r, ref1, ref2 = [json.loads(x)["reward"] for x in (tmp_path / "plain.jsonl").read_text().splitlines()]
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    first = json.loads(outputs["ray"].splitlines()[0])["reward"]
    assert first == pytest.approx((sig(r - ref1) + sig(r - ref2)) / 2 + 0.5, abs=1e-6)


def test_a_steered_multi_model_reaches_the_ray_actors_and_scores_as_locally(tiny_bert, tmp_path, monkeypatch,
                                                                           capsys):
    """`score --engine ray --weights` hands the steering to the actors as a load option, and an actor built with
    it (here in this process: a Ray run adds a minute, and the chunks and writer are tested above) scores its
    chunks as the steered local engine does: `safety:0` flips every pair."""
    import rewardkit.scale
    from rewardkit.scale.ray_engine import bound_scorer
    from tests.helpers import preference_flipping_multi

    model, first, second = preference_flipping_multi(tiny_bert, tmp_path / "model")
    row = {"prompt": first.prompt[-1].content, "chosen": first.response, "rejected": second.response}
    source = write_jsonl(tmp_path / "pairs.jsonl", [row] * 6)
    handed = {}
    monkeypatch.setattr(rewardkit.scale, "score_jsonl_ray", lambda *a, **kw: handed.update(kw) or ScoreReport())
    score_cli("ray", str(model), source, tmp_path / "unused.jsonl", monkeypatch, capsys, "--weights", "safety:0")
    assert handed["load_options"] == {"weights": "safety:0"}

    actor = bound_scorer(str(model), handed["load_options"], str(source), 3)()
    refs = index_chunks(str(source), 4, 0)
    scored = actor({"offset": [r.offset for r in refs], "line": [r.line for r in refs], "rows": [r.rows for r in refs]})
    remote = [json.loads(line) for text in scored["text"] for line in text.splitlines()]
    for weights in (None, "safety:0"):
        target = tmp_path / f"local-{weights}.jsonl"
        score_cli("local", str(model), source, target, monkeypatch, capsys, *(["--weights", weights] if weights else []))
        local = [json.loads(line) for line in target.read_text().splitlines()]
        if weights is None:
            assert all(r["reward_chosen"] < r["reward_rejected"] for r in local)  # the unsteered gate
    assert remote == local and all(r["reward_chosen"] > r["reward_rejected"] for r in remote)


def test_a_model_spec_is_built_in_each_actor(ray_instance, tmp_path, monkeypatch, capsys):
    """`--model implicit:simpo --policy P` on Ray: each actor builds the spec (rewardkit.load builds specs), and the
    rows equal the local engine's (it was refused)."""
    from rewardkit.models.tiny_lm import save_tiny_causal_lm

    policy = str(save_tiny_causal_lm(tmp_path / "policy", seed=0))
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": f"Q{i}?", "response": f"answer {i}"} for i in range(6)])
    outputs = {}
    for engine in ("local", "ray"):
        target = tmp_path / f"{engine}.jsonl"
        score_cli(engine, "implicit:simpo", source, target, monkeypatch, capsys, "--policy", policy)
        outputs[engine] = target.read_bytes()
    assert outputs["ray"] == outputs["local"]
