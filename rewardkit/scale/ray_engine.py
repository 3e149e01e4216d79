"""Score a JSONL file on Ray Data: chunks → `map_batches` over an actor pool (one model copy per actor) → the
output file, in input order, through the same writer, resume and progress rules as the local engine.

Without an address a local Ray instance is started (and stopped) by the call; with one (`auto`,
`ray://head:10001`, `10.0.0.5:6379`) the existing cluster is used. Workers read their chunks from the input
path themselves, so on a multi-node cluster the input and the model folder must be at the same path on every
node (a shared filesystem), and rewardkit must be installed in the workers' environment.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass

from rewardkit.scale.batch_scoring import RowRules, ScoredChunk, ScoreReport, score_chunk, write_scored
from rewardkit.errors import RewardkitError
from rewardkit.scale.chunks import ChunkRef, index_chunks, read_chunk


SCORED_FIELDS = ("text", "rows", "pairs", "singles", "truncated", "diverged", "skipped")
"""ScoredChunk's fields, in order: the columns an actor returns."""


@dataclass(frozen=True)
class RewardSteps:
    """What is done to the model's reward inside each actor, as in the local engine (models.shaped)."""

    shaping: str | None = None
    combine: str | None = None


class ChunkScorer:
    """A Ray actor: loads the model once, then scores whole chunks (one per call, so batches match local)."""

    def __init__(self, model_path: str, load_options: dict, input_path: str, batch_size: int,
                 rules: RowRules = RowRules(), steps: RewardSteps = RewardSteps()):
        import rewardkit
        from rewardkit.models.shaped import shaped_and_combined

        self.model = shaped_and_combined(rewardkit.load(model_path, **load_options), shaping=steps.shaping,
                                         combine=steps.combine)
        self.input_path, self.batch_size, self.rules = input_path, batch_size, rules

    def __call__(self, batch: dict) -> dict:
        out: dict[str, list] = {name: [] for name in SCORED_FIELDS}
        for offset, line, rows in zip(batch["offset"], batch["line"], batch["rows"]):
            chunk = read_chunk(self.input_path, ChunkRef(int(offset), int(line), int(rows)), self.rules)
            for name, value in asdict(score_chunk(self.model, chunk, self.batch_size)).items():
                out[name].append(value)
        return out


def bound_scorer(model_path: str, load_options: dict, input_path: str, batch_size: int,
                 rules: RowRules = RowRules(), steps: RewardSteps = RewardSteps()) -> type:
    """ChunkScorer with its arguments baked into the class, which Ray ships with the class itself (constructor
    arguments would sit in the object store, where an actor restart might not find them)."""
    model = os.path.abspath(model_path) if os.path.exists(model_path) else model_path  # a folder, or a hub id
    source = os.path.abspath(input_path)

    class BoundChunkScorer(ChunkScorer):
        def __init__(self):
            super().__init__(model, load_options, source, batch_size, rules, steps)

    return BoundChunkScorer


def start_ray(address: str | None, num_cpus: int | None) -> bool:
    """Connect to `address`, or start a local instance. Returns True when this call started Ray."""
    import ray

    if ray.is_initialized():
        return False
    quiet = dict(logging_level=logging.ERROR, log_to_driver=False, include_dashboard=False)
    if address:
        ray.init(address=address, **quiet)
        return False
    ray.init(num_cpus=num_cpus or os.cpu_count() or 1, **quiet)
    return True


def actor_layout(actors: int | None) -> tuple[int, int]:
    """(actors, CPUs per actor): by default one single-CPU actor per CPU of the instance."""
    import ray

    total = max(1, int(ray.available_resources().get("CPU", 1)))
    count = actors or total
    return count, max(1, total // count)


def _original_error(err: BaseException) -> BaseException:
    """The rewardkit error a worker raised, unwrapped from Ray's task-error wrappers (or `err` itself)."""
    seen = err
    while seen is not None:
        if isinstance(seen, RewardkitError):
            return seen
        seen = seen.__cause__ or getattr(seen, "cause", None)
    return err


def ray_scored_chunks(model_path: str, input_path: str, *, batch_size: int, rows_per_chunk: int,
                      load_options: dict, actors: int | None, rules: RowRules = RowRules(),
                      steps: RewardSteps = RewardSteps()):
    """`write_scored`'s chunk source: a Ray Data pipeline over the chunks after the first `skip` rows."""
    import ray.data

    def scored_chunks(skip: int):
        refs = index_chunks(input_path, rows_per_chunk, skip)
        if not refs:
            return
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        count, cpus = actor_layout(actors)
        dataset = ray.data.from_items([asdict(ref) for ref in refs], override_num_blocks=len(refs))
        scorer = bound_scorer(model_path, load_options, input_path, batch_size, rules, steps)
        pool = ray.data.ActorPoolStrategy(size=min(count, len(refs)))
        scored = dataset.map_batches(scorer, batch_size=1, compute=pool, num_cpus=cpus)
        try:
            for row in scored.iter_rows():
                yield ScoredChunk(str(row["text"]), *(int(row[k]) for k in SCORED_FIELDS[1:]))
        except Exception as err:  # noqa: BLE001 - re-raise a worker's rewardkit error as itself
            original = _original_error(err)
            if original is err:
                raise
            raise original from None

    return scored_chunks


def score_jsonl_ray(model_path: str, input_path: str, output_path: str, *, batch_size: int = 32,
                    rows_per_chunk: int = 512, resume: bool = False, on_rows=None, address: str | None = None,
                    actors: int | None = None, num_cpus: int | None = None,
                    load_options: dict | None = None, rules: RowRules = RowRules(),
                    shaping: str | None = None, combine: str | None = None) -> ScoreReport:
    """Like `score_jsonl`, with the model loaded from `model_path` inside each Ray actor, its reward shaped by
    `shaping` and combined with rule rewards by `combine` there (rewardkit.models.shaped.shaped_and_combined)."""
    import ray

    started = start_ray(address, num_cpus)
    try:
        chunks = ray_scored_chunks(model_path, input_path, batch_size=batch_size, rows_per_chunk=rows_per_chunk,
                                   load_options=load_options or {}, actors=actors, rules=rules,
                                   steps=RewardSteps(shaping, combine))
        return write_scored(chunks, output_path, resume=resume, on_rows=on_rows, input_path=input_path)
    finally:
        if started:
            ray.shutdown()
