"""Memory: scoring a JSONL streams, so peak resident memory does not grow with the file. Peak RSS of
`rewardkit score`'s work (load the model, stream the file, write the output) on 10k rows and on 1M rows, each in
a fresh process; and, during the large run, the resident memory every --every rows and its slope.

    python benchmarks/memory_rss.py [--small 10000] [--large 1000000] [--every 50000]
                                    [--model DIR | --backbone tiny-llama|smollm2|DIR]

peer = peak RSS at --small rows, ours = peak RSS at --large rows, ratio = large / small (1.0 = flat). The slope
is a least-squares fit of RSS against rows over the large run's samples after its first 10% of rows (the
allocator's warm-up), in MB per 100k rows (0 = flat).
By default the model is a tiny random-init BERT (2 layers, width 32, the MiniLM tokenizer) so that the 1M-row
run finishes in minutes on a CPU: memory flatness is a property of the streaming, not of the model size.
Decoders: `--backbone tiny-llama` is a tiny random-init Llama (2 layers, width 32) with SmolLM2's tokenizer and
chat template, scored through the packed decoder path (the 1M-row claim); `--backbone smollm2` is a new head on
the shipped SmolLM2-135M-Instruct (real size, a 135M-parameter forward per sample: a few rows per second on 2
CPUs, so take --large in the thousands and read the slope); a folder is a new head on that backbone.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE, machine_line, quiet, save_results  # noqa: E402


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


def tiny_llama(folder: Path) -> Path:
    """A tiny random Llama sequence classifier with SmolLM2's tokenizer and chat template (built once)."""
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    from rewardkit.models.defaults import resolve_backbone
    from rewardkit.models.hf import load_tokenizer

    tokenizer = load_tokenizer(resolve_backbone("smollm2"))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=2, intermediate_size=64, max_position_embeddings=2048, num_labels=1,
                         pad_token_id=tokenizer.pad_token_id)
    LlamaForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def scoring_model(args, work: Path) -> tuple[Path, str, bool]:
    """(model folder, what it is, whether it is tiny) from --model / --backbone."""
    from bench_data import decoder_reward_model

    if args.model:
        return Path(args.model), args.model, False
    if args.backbone == "tiny-llama":
        return tiny_llama(work / "tiny-llama"), "tiny random Llama (2 layers, width 32, SmolLM2 tokenizer)", True
    if args.backbone:
        name = Path(args.backbone).name
        return decoder_reward_model(args.backbone, work / f"{name}-rm"), f"new head on {args.backbone}", False
    return tiny_model(work / "tiny-bert"), "tiny random BERT (2 layers, width 32)", True


def current_rss_mb() -> float:
    """This process's resident memory now (Linux /proc/self/statm)."""
    import os

    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def slope_mb_per_100k(samples: list[list[float]], skip_fraction: float = 0.1) -> float:
    """Least-squares slope of RSS (MB) against rows, in MB per 100k rows, over samples past the first 10% of rows.

    >>> slope_mb_per_100k([[0, 50.0], [100_000, 100.0], [200_000, 101.0], [300_000, 102.0]])
    1.0
    """
    last = samples[-1][0]
    kept = [(r, m) for r, m in samples if r >= skip_fraction * last] if last else samples
    if len(kept) < 2:
        return float("nan")
    mean_r = sum(r for r, _ in kept) / len(kept)
    mean_m = sum(m for _, m in kept) / len(kept)
    spread = sum((r - mean_r) ** 2 for r, _ in kept)
    return 100_000 * sum((r - mean_r) * (m - mean_m) for r, m in kept) / spread if spread else float("nan")


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


def child(model: str, source: str, output: str, threads: str, every: str) -> None:
    """Run in a fresh process: score, then print rows, seconds, this process's peak RSS and its RSS every `every`
    rows ([rows, MB] pairs, sampled when a chunk of rows is written) as JSON."""
    quiet()
    import torch

    if int(threads):  # a tiny model's operators are too small to share between threads
        torch.set_num_threads(int(threads))
    import rewardkit
    from rewardkit.scale.batch_scoring import score_jsonl

    started = time.perf_counter()
    samples = [[0, current_rss_mb()]]
    done = [0]

    def on_rows(rows: int) -> None:
        done[0] += rows
        if done[0] - samples[-1][0] >= int(every):
            samples.append([done[0], current_rss_mb()])

    report = score_jsonl(rewardkit.load(model), source, output, on_rows=on_rows)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"rows": report.rows, "seconds": time.perf_counter() - started, "peak_rss_mb": peak_kib / 1024,
                      "rss_mb_by_rows": samples}))


def measure(model: Path, source: Path, output: Path, threads: int, every: int) -> dict:
    command = [sys.executable, __file__, "--child", str(model), str(source), str(output), str(threads), str(every)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    if argv is None and sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:7])
        return {}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=None, help="sample RSS every N rows of the large run "
                                                                  "(default: --large / 20)")
    parser.add_argument("--model", help="model folder (default: a tiny random BERT, see the module docstring)")
    parser.add_argument("--backbone", help="a decoder instead: tiny-llama, smollm2 or a backbone folder (new head)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads in the scoring process (default: 1 for the tiny model, else torch's)")
    parser.add_argument("--work", default=str(CACHE / "memory"))
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args(argv)
    quiet()
    if args.model and args.backbone:
        parser.error("give --model or --backbone, not both")
    work = Path(args.work)
    model, described, tiny = scoring_model(args, work)
    threads = args.threads if args.threads is not None else (1 if tiny else 0)
    every = args.every or max(1, args.large // 20)
    runs = {}
    for name, n in (("small", args.small), ("large", args.large)):
        runs[name] = measure(model, write_rows(work / f"rows_{n}.jsonl", n), work / f"scored_{n}.jsonl", threads,
                             every if name == "large" else n)
        (work / f"scored_{n}.jsonl").unlink(missing_ok=True)
    small, large = runs["small"]["peak_rss_mb"], runs["large"]["peak_rss_mb"]
    slope = slope_mb_per_100k(runs["large"]["rss_mb_by_rows"])
    figures = {"model": described, "torch_threads": threads or "default", "runs": runs, "ratio": large / small,
               "slope_mb_per_100k_rows": slope if math.isfinite(slope) else None}
    label = f"memory {args.backbone}" if args.backbone else "memory"
    print(f"[{label}] peer={small:.0f} MB (peak RSS, {args.small} rows) ours={large:.0f} MB (peak RSS, "
          f"{args.large} rows) ratio={large / small:.2f}")
    print("RSS during the large run (rows: MB): " +
          ", ".join(f"{rows}: {mb:.0f}" for rows, mb in runs["large"]["rss_mb_by_rows"]))
    rate = runs["large"]["rows"] / runs["large"]["seconds"]
    print((f"slope after the first 10% of rows: {slope:+.2f} MB per 100k rows" if math.isfinite(slope) else
           "slope: n/a (fewer than 2 samples past the first 10% of rows; RSS is read once per 512-row chunk)") +
          f" ({rate:.3g} rows/s; model: {described})")
    print(machine_line())
    if not args.no_save:
        save_results("memory_rss" + (f"_{Path(args.backbone).name}" if args.backbone else ""), figures)
    return figures


if __name__ == "__main__":
    main()
