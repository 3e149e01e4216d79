"""Applying a reward model to data: Best-of-N reranking (fixed or adaptive budget) and annotation of response
sets into preference pairs. Each streams a JSONL file, resumes after a kill, and writes its output atomically
(rewardkit.scale.partial_output)."""
