"""What a generative judge sends and how it reads the answer: prompt templates, rubric files, and the parsers
of scores and verdicts. Pure functions of strings.

Templates are plain text files with named fields in braces (`{prompt}`, `{response}`, …); only the fields
a kind knows are filled, so other braces (JSON examples) stay as written. The defaults live in
`judge_templates/` beside this module; a user's file (`--template FILE`) replaces one and must hold the same
fields.

Parsers return None for an output that holds no score or verdict: the caller counts it as unparseable and
never turns it into a tie, a win or a middle score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from rewardkit.data.schemas import Sample
from rewardkit.errors import DataError

TEMPLATE_FOLDER = Path(__file__).with_name("judge_templates")
FIELDS = {
    "rubric": ("criterion", "prompt", "response"),
    "reasoning": ("prompt", "response"),
    "pairwise": ("prompt", "response_a", "response_b"),
    "reasoning-pairwise": ("prompt", "response_a", "response_b"),
    "cloud": ("prompt", "response"),
}
"""Fields each kind's template must contain (every one is filled)."""
SCORE_RANGE = (1.0, 10.0)


def default_template(kind: str) -> Path:
    return TEMPLATE_FOLDER / f"{kind}.txt"


def load_template(kind: str, path: str | None = None) -> str:
    """The template text of `kind`: the user's file, else the default; a file missing a field is an error."""
    file = Path(path) if path else default_template(kind)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise DataError(f"cannot read the template ({err.strerror})", file=str(file)) from None
    missing = [name for name in FIELDS[kind] if "{" + name + "}" not in text]
    if missing:
        raise DataError(f"a {kind} template must contain {', '.join('{' + m + '}' for m in missing)}",
                        file=str(file))
    return text


def fill(template: str, **values: str) -> str:
    """`template` with each {name} replaced by its value; other braces are left alone.

    >>> fill('Rate {response} as JSON {"score": N}', response="4")
    'Rate 4 as JSON {"score": N}'
    """
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def prompt_text(sample: Sample) -> str:
    """The conversation as the judge reads it: a single user turn as is, longer ones as `role: content` lines."""
    if len(sample.prompt) == 1 and sample.prompt[0].role == "user":
        return sample.prompt[0].content
    return "\n".join(f"{m.role}: {m.content}" for m in sample.prompt)


# -- rubrics --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Criterion:
    name: str
    description: str
    weight: float = 1.0


DEFAULT_RUBRIC = (Criterion("overall", "The response is correct, answers exactly what was asked, and is clear."),)


def load_rubric(path: str | None) -> tuple[Criterion, ...]:
    """Criteria from a YAML/JSON file: `criteria: [{name, description, weight}]` or a plain list of principle
    strings (SALMON style, weight 1 each). None: DEFAULT_RUBRIC.

        criteria:
          - {name: correctness, description: The final answer is right., weight: 2}
          - Be concise.
    """
    if path is None:
        return DEFAULT_RUBRIC
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise DataError(f"cannot read the rubric ({err.strerror})", file=path) from None
    except yaml.YAMLError as err:
        raise DataError(f"not valid YAML/JSON ({err})", file=path) from None
    items = loaded.get("criteria") if isinstance(loaded, dict) else loaded
    if not isinstance(items, list) or not items:
        raise DataError("expected a non-empty list of criteria (or a mapping with one)", file=path,
                        field="criteria")
    return tuple(_criterion(item, i, path) for i, item in enumerate(items))


def _criterion(item, index: int, path: str) -> Criterion:
    where = f"criteria[{index}]"
    if isinstance(item, str) and item.strip():
        return Criterion(f"principle {index + 1}", item.strip())
    if not isinstance(item, dict) or not isinstance(item.get("description"), str):
        raise DataError("needs a text 'description' (or is a principle string)", file=path, field=where)
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
        raise DataError(f"weight must be a positive number, got {weight!r}", file=path, field=f"{where}.weight")
    return Criterion(str(item.get("name", f"criterion {index + 1}")), item["description"].strip(), float(weight))


def weighted_score(values: Sequence[float | None], weights: Sequence[float]) -> float | None:
    """Σ w·s / Σ w over the criteria that have a score; None when none has.

    >>> weighted_score([8.0, None, 2.0], [1.0, 5.0, 3.0])
    3.5
    """
    pairs = [(v, w) for v, w in zip(values, weights) if v is not None]
    if not pairs:
        return None
    return sum(v * w for v, w in pairs) / sum(w for _, w in pairs)


# -- parsing --------------------------------------------------------------------------------------------------

_SCORE = re.compile(r"<score>\s*(\d+(?:\.\d+)?)\s*</score>|score\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?\s*(\d+(?:\.\d+)?)"
                    r"(?!\d|\.\d|\s*/\s*(?!10\b)\d)"  # "Score: 3/5" is on another scale: not a score
                    r"|\b(\d+(?:\.\d+)?)\s*/\s*10\b", re.IGNORECASE)
_VERDICT = re.compile(r"<verdict>\s*\[*\s*(?:response\s+)?(A|B|tie)\s*\]*\s*</verdict>"
                      r"|verdict\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?\s*\[*\s*(?:response\s+)?(A|B|tie)\b|\[\[(A|B|tie)\]\]"
                      r"|\A[\s*(\[\"']*(?:response\s+)?(A|B)[\s*)\]\"'.!]*\Z",  # the whole output is the letter
                      re.IGNORECASE)


def parse_score(text: str, low: float = SCORE_RANGE[0], high: float = SCORE_RANGE[1]) -> float | None:
    """The last score in `text` ("<score>7</score>", "Score: 7", "7/10"), None when there is none or it lies
    outside [low, high]. A score out of another number ("Score: 3/5") is not one.

    >>> parse_score("Good answer. Score: 8"), parse_score("<score>11</score>"), parse_score("I like it")
    (8.0, None, None)
    """
    matches = _SCORE.findall(text or "")
    if not matches:
        return None
    value = float(next(group for group in matches[-1] if group))
    return value if low <= value <= high else None


def parse_verdict(text: str) -> str | None:
    """'A', 'B' or 'tie' from the last verdict in `text` ("Verdict: A", "<verdict>B</verdict>", "[[A]]"), or from
    an output that is the letter alone ("A", "(B).", "Response A": how small instruct models often answer);
    else None. A letter inside other text ("A: A", "A is better") is not a verdict.

    >>> [parse_verdict(t) for t in ("Verdict: B", "<verdict> a </verdict>", " A.", "A: A")]
    ['B', 'A', 'A', None]
    """
    matches = _VERDICT.findall(text or "")
    if not matches:
        return None
    value = next(group for group in matches[-1] if group)
    return "tie" if value.lower() == "tie" else value.upper()


def reasoning_of(text: str) -> str:
    """The reasoning before the final score or verdict tag (the whole text when there is no tag)."""
    cut = min((i for i in (text.rfind("<score>"), text.rfind("<verdict>")) if i >= 0), default=len(text))
    return text[:cut].strip()
