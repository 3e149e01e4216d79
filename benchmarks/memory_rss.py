"""Memory: scoring a JSONL streams, so peak resident memory does not grow with the file. Peak RSS of
`rewardkit score`'s work (load the model, stream the file, write the output) on 10k rows and on 1M rows, each in
a fresh process.

    python benchmarks/memory_rss.py [--small 10000] [--large 1000000] [--model DIR]

peer = peak RSS at --small rows, ours = peak RSS at --large rows, ratio = large / small (1.0 = flat).
By default the model is a tiny random-init BERT (2 layers, width 32, the MiniLM tokenizer) so that the 1M-row
run finishes in minutes on a CPU: memory flatness is a property of the streaming, not of the model size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE, quiet, save_results  # noqa: E402


def tiny_model(folder: Path) -> Path:
    """A tiny random BERT reward model with the MiniLM tokenizer (built once)."""
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from rewardkit.models.defaults import minilm_path
    from rewardkit.models.hf import load_tokenizer

    tokenizer = load_tokenizer(minilm_path())
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, num_labels=1,
                        pad_token_id=tokenizer.pad_token_id)
    BertForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def write_rows(path: Path, n_rows: int) -> Path:
    """`n_rows` pair rows cycling over 2,000 distinct synthetic pairs (each row gets its own id)."""
    from rewardkit.synth import generate_pairs

    if path.is_file() and sum(1 for _ in path.open("rb")) == n_rows:
        return path
    base = [sp.pair for sp in generate_pairs(2000, seed=5)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n_rows):
            pair = base[i % len(base)]
            row = {"id": i, "prompt": pair.prompt[0].content, "chosen": pair.chosen, "rejected": pair.rejected}
            handle.write(json.dumps(row) + "\n")
    return path


def child(model: str, source: str, output: str, threads: str) -> None:
    """Run in a fresh process: score, then print rows, seconds and this process's peak RSS as JSON."""
    quiet()
    import torch

    if int(threads):  # a tiny model's operators are too small to share between threads
        torch.set_num_threads(int(threads))
    import rewardkit
    from rewardkit.scale.batch_scoring import score_jsonl

    started = time.perf_counter()
    report = score_jsonl(rewardkit.load(model), source, output)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"rows": report.rows, "seconds": time.perf_counter() - started, "peak_rss_mb": peak_kib / 1024}))


def measure(model: Path, source: Path, output: Path, threads: int) -> dict:
    command = [sys.executable, __file__, "--child", str(model), str(source), str(output), str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    if argv is None and sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:6])
        return {}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--model", help="model folder (default: a tiny random BERT, see the module docstring)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads in the scoring process (default: 1 for the tiny model, else torch's)")
    parser.add_argument("--work", default=str(CACHE / "memory"))
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args(argv)
    quiet()
    work = Path(args.work)
    model = Path(args.model) if args.model else tiny_model(work / "tiny-bert")
    threads = args.threads if args.threads is not None else (0 if args.model else 1)
    runs = {}
    for name, n in (("small", args.small), ("large", args.large)):
        runs[name] = measure(model, write_rows(work / f"rows_{n}.jsonl", n), work / f"scored_{n}.jsonl", threads)
        (work / f"scored_{n}.jsonl").unlink(missing_ok=True)
    small, large = runs["small"]["peak_rss_mb"], runs["large"]["peak_rss_mb"]
    figures = {"model": args.model or "tiny random BERT (2 layers, width 32)", "torch_threads": threads or "default",
               "runs": runs, "ratio": large / small}
    print(f"[memory] peer={small:.0f} MB (peak RSS, {args.small} rows) ours={large:.0f} MB (peak RSS, "
          f"{args.large} rows) ratio={large / small:.2f}")
    if not args.no_save:
        save_results("memory_rss", figures)
    return figures


if __name__ == "__main__":
    main()
