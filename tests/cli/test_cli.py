"""The CLI end to end on tiny models: outputs, resume, and one clear error line per kind of bad input."""

import json
import os
import subprocess
import sys

import pytest

import rewardkit
from rewardkit.cli.app import main
from rewardkit.data.schemas import as_conversation
from tests.helpers import run_cli as run, write_jsonl

PAIR_ROWS = [
    {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"},
    {"prompt": [{"role": "user", "content": "Say hi"}], "chosen": "Hi!", "rejected": "No."},
    {"prompt": "Name a fruit", "response": "An apple."},
    {"chosen": "\n\nHuman: Hello\n\nAssistant: Hello, how can I help?", "rejected": "\n\nHuman: Hello\n\nAssistant: Go away."},
]


def test_score_pairs_and_single_responses(tiny_bert, tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS)
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(tmp_path / "out.jsonl"),
                        "--batch-size", "2"], monkeypatch, capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r.get("prompt") for r in rows] == [r.get("prompt") for r in PAIR_ROWS]  # order kept
    model = rewardkit.load(tiny_bert)
    first = model.score([rewardkit.Sample.from_text("What is 2+2?", "4"), rewardkit.Sample.from_text("What is 2+2?", "5")])
    assert rows[0]["reward_chosen"] == pytest.approx(first.rewards[0], abs=1e-5)
    assert rows[0]["margin"] == pytest.approx(first.rewards[0] - first.rewards[1], abs=1e-5)
    single = model.score([rewardkit.Sample(as_conversation("Name a fruit"), "An apple.")]).rewards[0]
    assert rows[2]["reward"] == pytest.approx(single, abs=1e-5)
    assert "reward_chosen" in rows[3] and "scored 4 rows (3 pairs, 1 single" in err


def test_score_resumes_a_partial_output(tiny_bert, tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS)
    fresh = tmp_path / "fresh.jsonl"
    assert run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(fresh)], monkeypatch, capsys)[0] == 0
    lines = fresh.read_text().splitlines(keepends=True)
    resumed = tmp_path / "resumed.jsonl"
    (tmp_path / "resumed.jsonl.partial").write_text(lines[0] + lines[1] + lines[2][:10])  # killed mid-line
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(resumed), "--resume"],
                       monkeypatch, capsys)
    assert code == 0 and "resumed after 2" in err
    got = [json.loads(x) for x in resumed.read_text().splitlines()]
    want = [json.loads(x) for x in lines]
    for a, b in zip(got, want, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == (pytest.approx(b[key], abs=1e-5) if isinstance(b[key], float) else b[key])


def test_score_resume_refuses_a_changed_input(tiny_bert, tmp_path, monkeypatch, capsys):
    from rewardkit.scale.partial_output import InputPrefix, input_record_path, partial_path

    started_on = write_jsonl(tmp_path / "old.jsonl", PAIR_ROWS)
    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS[::-1])
    output = tmp_path / "out.jsonl"
    partial_path(output).write_text('{"chosen_reward": 1.0}\n')  # a run on old.jsonl, killed after one row
    prefix = InputPrefix(started_on)
    prefix.advance(1)
    input_record_path(partial_path(output)).write_text(json.dumps(prefix.record()))
    prefix.close()
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(output), "--resume"],
                       monkeypatch, capsys)
    assert code != 0 and "input changed" in err and "in.jsonl" in err
    assert partial_path(output).read_text() == '{"chosen_reward": 1.0}\n' and not output.exists()


@pytest.mark.parametrize(
    "content, expected",
    [
        (b'{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a", "chosen": \n', r"in\.jsonl, line 2"),
        (b"", r"in\.jsonl: empty file"),
        (b'{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "\xff\xfe"}\n', r"in\.jsonl, line 2.*UTF-8"),
        (b'{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a", "chosen": "b"}\n', r"line 2"),
        (b'{"prompt": "a", "response": 3}\n', r"line 1, field 'response'"),
    ],
    ids=["malformed-json", "empty-file", "non-utf8", "missing-field", "wrong-type"],
)
def test_bad_input_is_one_clear_error_and_no_output(content, expected, tiny_bert, tmp_path, monkeypatch, capsys):
    source = tmp_path / "in.jsonl"
    source.write_bytes(content)
    output = tmp_path / "out.jsonl"
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(output)],
                       monkeypatch, capsys)
    assert code == 2
    assert err.count("error:") == 1 and "Traceback" not in err
    import re

    assert re.search(expected, err, re.S), err
    assert not output.exists()  # nothing that looks complete


def test_model_folder_without_weights(tiny_bert, tmp_path, monkeypatch, capsys):
    import shutil

    folder = tmp_path / "noweights"
    shutil.copytree(tiny_bert, folder)
    for path in folder.glob("*.safetensors"):
        path.unlink()
    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS[:1])
    code, _, err = run(["score", "--model", str(folder), "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
                       monkeypatch, capsys)
    assert code == 2 and "noweights has no *.safetensors weights" in err
    (folder / "pytorch_model.bin").write_bytes(b"not unpickled")  # named, never opened
    code, _, err = run(["score", "--model", str(folder), "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
                       monkeypatch, capsys)
    assert code == 2 and "found pytorch_model.bin: pickled weights are not loaded; convert to safetensors" in err


def test_debug_shows_the_traceback(tiny_bert, tmp_path, monkeypatch, capsys):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"")
    monkeypatch.setattr(sys, "argv", ["rewardkit", "--debug", "score", "--model", tiny_bert, "--input", str(source),
                                      "--output", str(tmp_path / "o.jsonl")])
    with pytest.raises(rewardkit.RewardkitError, match="empty file"):
        main()


def test_train_cli_on_a_tiny_backbone(tiny_llama, tmp_path, monkeypatch, capsys):
    rows = [{"prompt": f"q{i}", "chosen": f"good answer {i}", "rejected": f"bad {i}"} for i in range(12)]
    data = write_jsonl(tmp_path / "train.jsonl", rows)
    config = tmp_path / "c.yaml"
    config.write_text("batch_size: 4\nlearning_rate: 0.01\nsave_every: 2\n")
    out = tmp_path / "run"
    code, _, err = run(["train", "--config", str(config), "--data", str(data), "--backbone", tiny_llama,
                        "--out", str(out), "max_steps=4", "eval_every=2"], monkeypatch, capsys)
    assert code == 0, err
    said = " ".join(err.split())  # the console wraps lines
    assert "; eval: accuracy " in said and ", pairs 1; model" in said and "{'" not in said  # not a Python dict
    assert rewardkit.load(str(out / "model")).family == "scalar"
    assert json.loads((out / "train_config.json").read_text())["max_steps"] == 4
    code, _, err = run(["train", "--data", str(data), "--backbone", tiny_llama, "--out", str(tmp_path / "x"),
                        "learning_rat=1"], monkeypatch, capsys)
    assert code == 2 and "unknown key 'learning_rat'" in err and "loop keys: backbone" in err


def test_train_with_a_key_of_another_family_exits_2_naming_it(tmp_path, monkeypatch, capsys):
    data = write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": "p", "chosen": "a", "rejected": "b"}])
    code, _, err = run(["train", "--kind", "scalar", "beta=0.3", "--data", str(data), "--out", str(tmp_path / "run")],
                       monkeypatch, capsys)
    assert code == 2 and "key 'beta' does not apply to family 'scalar'" in err
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_help_does_not_import_torch():
    code = ("import sys; sys.argv = ['rewardkit', '--help']\n"
            "from rewardkit.cli.app import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "quickstart" in out and out.strip().endswith("NO-TORCH")


def test_the_command_list_gives_each_summary_unbroken():
    """Typer's command list kept the docstrings' line breaks ("...on the shipped MiniLM" / "encoder, and..."): on
    a terminal wide enough, each command's whole first paragraph is on its line."""
    import inspect

    from rewardkit.cli.app import app

    env = {**os.environ, "COLUMNS": "400"}
    code = "import sys; sys.argv = ['rewardkit', '--help']\nfrom rewardkit.cli.app import main\nmain()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout
    lines = {line.split()[1]: line for line in out.splitlines() if len(line.split()) > 2 and line.split()[0] == "│"}
    for command in app.registered_commands:
        summary = " ".join(inspect.cleandoc(command.callback.__doc__).split("\n\n")[0].split())
        assert summary in lines[command.name], (command.name, out)


def test_suite_writes_each_subset_with_its_checks(tmp_path, monkeypatch, capsys):
    from rewardkit.data.loaders import load_pairs
    from rewardkit.synth import suite
    from rewardkit.synth.checks import verify
    from rewardkit.synth.pair import from_jsonl_row

    code, _, err = run(["suite", "--out", str(tmp_path / "suite"), "--n", "3", "--seed", "5"], monkeypatch, capsys)
    assert code == 0, err
    layout = json.loads((tmp_path / "suite" / "suite.json").read_text())
    assert layout["seed"] == 5 and layout["pairs"] == 3 * sum(map(len, suite.SECTIONS.values()))
    for section, subsets in suite.SECTIONS.items():
        for name in subsets:
            path = tmp_path / "suite" / section / f"{name}.jsonl"
            rows = [json.loads(line) for line in path.read_text().splitlines()]
            assert len(rows) == 3 and {r["subset"] for r in rows} == {name}
            for row in rows:  # the check proves chosen right and rejected wrong
                sp = from_jsonl_row(row)
                assert verify(sp.check, sp.pair.chosen) and not verify(sp.check, sp.pair.rejected)
            assert [p.chosen for p in load_pairs(path)] == [r["chosen"] for r in rows]  # readable as TRL pairs
    written = (tmp_path / "suite" / "reasoning" / "arithmetic.jsonl").read_text().splitlines()
    assert [sp.pair.id for sp in suite.generate_subset("arithmetic", 3, 5)] == [json.loads(x)["id"] for x in written]


def test_score_adds_rule_rewards(tiny_bert, tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "2+2?", "response": "<answer>4</answer>"},
                                                 {"prompt": "2+2?", "response": "four"}])
    plain, ruled = tmp_path / "plain.jsonl", tmp_path / "ruled.jsonl"
    assert run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(plain)], monkeypatch,
               capsys)[0] == 0
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(ruled), "--combine",
                        "rm + 0.5*format"], monkeypatch, capsys)
    assert code == 0, err
    base = [json.loads(line)["reward"] for line in plain.read_text().splitlines()]
    added = [json.loads(line)["reward"] for line in ruled.read_text().splitlines()]
    assert added == pytest.approx([base[0] + 0.5, base[1]], abs=1e-6)


def test_score_shapes_then_combines_and_names_a_bad_spec(tiny_bert, tmp_path, monkeypatch, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "2+2?", "response": "<answer>4</answer>"},
                                                 {"prompt": "2+2?", "response": "four"}])
    plain, shaped = tmp_path / "plain.jsonl", tmp_path / "shaped.jsonl"
    assert run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(plain)], monkeypatch,
               capsys)[0] == 0
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(shaped), "--shaping",
                        "center=0.01; clip=-0.02,0.02", "--combine", "rm + 0.5*format"], monkeypatch, capsys)
    assert code == 0, err
    base = [json.loads(line)["reward"] for line in plain.read_text().splitlines()]
    got = [json.loads(line)["reward"] for line in shaped.read_text().splitlines()]
    assert got == pytest.approx([min(max(b - 0.01, -0.02), 0.02) + f for b, f in zip(base, (0.5, 0.0))], abs=1e-6)
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(shaped), "--shaping",
                        "clip=1"], monkeypatch, capsys)
    assert code == 2 and "'clip' in 'clip=1' takes 2 value(s), got 1" in err
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(shaped), "--shaping",
                        "par"], monkeypatch, capsys)
    assert code == 2 and "reference responses for every sample" in err


def test_every_option_help_is_shown_whole():
    """Typer renders help as rich markup, which swallowed `[str, ...]` in `rerank --input`'s help ("candidates":
    followed by nothing): every option's help text must appear in its command's --help as written."""
    from typer.main import get_command
    from typer.testing import CliRunner

    from rewardkit.cli.app import app

    checked = 0
    for name, command in get_command(app).commands.items():
        shown = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "400"}).output
        shown = " ".join(shown.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())
        texts = [command.help] + [param.help for param in command.params if getattr(param, "help", None)]
        for text in texts:
            assert " ".join(text.split()) in shown, (name, text)
        checked += len(texts)
    assert checked > 60


def test_paths_with_brackets_are_printed_as_they_are(tiny_bert, tmp_path, monkeypatch, capsys):
    """rich read '[exp1]' in a path as markup (printing 'runs//scored.jsonl') and '[/x]' as a closing tag it
    could not match, a MarkupError after the scoring had finished."""
    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS)
    output = tmp_path / "[exp1]" / "runs[/x]" / "scored.jsonl"
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(output)], monkeypatch,
                       capsys)
    assert code == 0 and output.exists(), err
    assert str(output) in "".join(err.split()), err


def test_model_folder_without_a_tokenizer_is_refused(tiny_bert, tmp_path, monkeypatch, capsys):
    """transformers 5 builds a five-token tokenizer for a folder of config and weights alone, which turned every
    text into [UNK]s and scored without a word of warning."""
    import shutil

    folder = tmp_path / "notokenizer"
    shutil.copytree(tiny_bert, folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS[:1])
    code, _, err = run(["score", "--model", str(folder), "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
                       monkeypatch, capsys)
    assert code == 2 and "notokenizer has no tokenizer (none of tokenizer.json" in err and "save_pretrained" in err
    (folder / "tokenizer_config.json").write_text('{"tokenizer_class": "BertTokenizer"}')  # no vocabulary
    code, _, err = run(["score", "--model", str(folder), "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
                       monkeypatch, capsys)
    assert code == 2 and "tokens: its vocabulary files are missing or empty" in err, err


def test_a_base_model_without_a_reward_head_is_refused(tmp_path, monkeypatch, capsys):
    """The shipped MiniLM is a sentence encoder: loaded as a sequence classifier its head starts random, and
    scoring with it gave random rewards without a word."""
    from rewardkit.models.defaults import minilm_path

    source = write_jsonl(tmp_path / "in.jsonl", PAIR_ROWS[:1])
    code, _, err = run(["score", "--model", minilm_path(), "--input", str(source), "--output",
                        str(tmp_path / "o.jsonl")], monkeypatch, capsys)
    flat = " ".join(err.split())
    assert code == 2 and "is not a trained reward model: its weights lack classifier.bias, classifier.weight" in flat
    assert f"rewardkit train --backbone {minilm_path()}" in flat and not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("args, expected", [
    (["score", "--bogus"], "No such option: --bogus"),
    (["score", "--model", "m", "--input", "i", "--output", "o", "--batch-size", "many"], "valid integer"),
    (["serve", "--model", "m", "--port", "70000"], "less than or equal to 65535"),
    (["no-such-command"], "No such command"),
])
def test_usage_errors_are_usage_errors(args, expected, monkeypatch, capsys):
    """typer (0.2x) raises its own copy of click's exceptions, which `main` took for crashes: exit 1, the class
    name, and a --debug hint that is itself a usage error after a command."""
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 2, err
    assert expected in err and "Usage: rewardkit" in err and "--debug" not in err


def test_ctrl_c_exits_130_and_says_what_is_kept(tiny_bert, tmp_path, monkeypatch, capsys):
    """typer 0.2x returns a KeyboardInterrupt as exit code 130 when not in standalone mode, and main ignored the
    return: Ctrl-C exited with 0, as a success, and said nothing."""
    from rewardkit.models.scalar import ScalarRewardModel

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ScalarRewardModel, "score", interrupted)
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "Hi", "response": "Hello"}])
    code, _, err = run(["score", "--model", tiny_bert, "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
                       monkeypatch, capsys)
    assert code == 130 and "interrupted; completed checkpoints are kept" in err
