"""Rule rewards: checks of a response that need no model, to combine with a model's reward (combined.py).

    format   1 when the response matches a regular expression (default: it ends with <answer>…</answer>)
    answer   1 when the response's final answer equals the sample's reference answer: exact after
             normalisation (case, spaces, LaTeX \\boxed{}, $, trailing period), or numerically within 1e-6
             (commas, fractions a/b and percentages understood); 0 otherwise, and 0 without a final answer
    length   0 up to `limit` words, then −(words − limit) / limit: a penalty growing with the excess
    reasoning  the reasoning pattern reward (RPR; Lv et al. 2025, "The Climb Carves Wisdom Deeper Than the
             Summit"): min(cap, per_phrase × k), k = how many distinct reasoning phrases ("first,", "let me
             check", "therefore"…) appear before the final answer. The paper pays r per key phrase present; the
             phrases are counted once each and the sum capped, so repeating them earns nothing

Each is a pure function (sample, options) → float. The final answer is the content of the last
<answer>…</answer>, else the last \\boxed{…}, else what follows the last "answer is", else the last number.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable, Mapping

from rewardkit.data.schemas import Sample
from rewardkit.errors import ConfigError

DEFAULT_FORMAT = r"(?s).*<answer>.+?</answer>\s*$"
_TAGGED = re.compile(r"(?s)<answer>(.*?)</answer>")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_SAID = re.compile(r"(?i)answer is[:\s]*([^\n]+)")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?%?")


def final_answer(text: str) -> str | None:
    """The response's final answer (see the module docstring), or None.

    >>> final_answer("So 6 x 7 = 42. The answer is 42."), final_answer("<answer> 3/4 </answer>")
    ('42.', '3/4')
    """
    for pattern in (_TAGGED, _BOXED, _SAID):
        found = pattern.findall(text)
        if found:
            return found[-1].strip()
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def normalise(answer: str) -> str:
    """Lower case, no spaces, $ or trailing period, \\boxed{x} → x.

    >>> normalise(" \\\\boxed{ X = 5 }. ")
    'x=5'
    """
    text = _BOXED.sub(lambda m: m.group(1), answer.strip())
    return re.sub(r"\s+", "", text.replace("$", "")).rstrip(".").lower()


def as_number(answer: str) -> float | None:
    """'1,234' → 1234.0, '3/4' → 0.75, '50%' → 0.5; None when it is not a number.

    >>> as_number("1,234"), as_number("3/4"), as_number("50%"), as_number("x")
    (1234.0, 0.75, 0.5, None)
    """
    text = normalise(answer).replace(",", "")
    scale = 0.01 if text.endswith("%") else 1.0
    try:
        return float(Fraction(text.rstrip("%"))) * scale
    except (ValueError, ZeroDivisionError):
        return None


def format_rule(sample: Sample, options: Mapping) -> float:
    return float(re.fullmatch(options.get("pattern", DEFAULT_FORMAT), sample.response) is not None)


def answer_rule(sample: Sample, options: Mapping) -> float:
    if sample.reference_answer is None:
        raise ConfigError("the 'answer' rule needs each sample's reference answer (Sample.reference_answer)")
    given = final_answer(sample.response)
    if given is None:
        return 0.0
    if normalise(given) == normalise(sample.reference_answer):
        return 1.0
    a, b = as_number(given), as_number(sample.reference_answer)
    return float(a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b)))


REASONING_PHRASES = (
    "first,", "first i", "i need to", "let's", "let me", "step 1", "next,", "then,", "so,", "this means",
    "therefore", "thus", "because", "to check", "verify", "wait,", "alternatively", "in summary",
)
"""Default phrases of the reasoning rule (lower case; matched case-insensitively, on word boundaries)."""
_ANSWER_START = re.compile(r"(?is)<answer>|\\boxed\{|answer is")


def reasoning_part(text: str) -> str:
    """The text before the final answer's marker (the last <answer>, \\boxed{ or "answer is"); all of it
    when there is none.

    >>> reasoning_part("First, 2+2=4. The answer is 4. Therefore done.")
    'First, 2+2=4. The '
    """
    starts = [m.start() for m in _ANSWER_START.finditer(text)]
    return text[: starts[-1]] if starts else text


def reasoning_phrases(text: str, phrases=REASONING_PHRASES) -> list[str]:
    """The distinct `phrases` that occur in `text` (case-insensitive, not inside a longer word).

    >>> reasoning_phrases("First, add. Then, check: therefore 5. Therefore!")
    ['first,', 'then,', 'therefore']
    """
    lowered = text.lower()
    return [p for p in phrases if re.search(_phrase_pattern(p), lowered)]


def _phrase_pattern(phrase: str) -> str:
    """`phrase` not preceded by a word character, nor followed by one when it ends in a letter or digit."""
    tail = r"(?!\w)" if phrase[-1].isalnum() else ""
    return rf"(?<!\w){re.escape(phrase.lower())}{tail}"


def reasoning_rule(sample: Sample, options: Mapping) -> float:
    phrases = options.get("phrases", REASONING_PHRASES)
    per_phrase, cap = float(options.get("per_phrase", 0.25)), float(options.get("cap", 1.0))
    return min(cap, per_phrase * len(reasoning_phrases(reasoning_part(sample.response), phrases)))


def length_rule(sample: Sample, options: Mapping) -> float:
    limit = int(options.get("limit", 512))
    words = len(sample.response.split())
    return 0.0 if words <= limit else -(words - limit) / limit


RULES: dict[str, Callable[[Sample, Mapping], float]] = {
    "format": format_rule, "answer": answer_rule, "length": length_rule, "reasoning": reasoning_rule,
}
