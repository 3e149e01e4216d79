"""Turn one row (a dict) of a known preference format into a PreferencePair or a RatedResponse.

Every parser is a pure function `parser(row, *, file=None, line=None, strict=False)`; `file` and `line` only
feed the DataError raised for a missing or wrongly-typed field. Formats:

- `trl`: TRL explicit prompt, `prompt` / `chosen` / `rejected`, each a string or a message list.
- `trl-implicit`: TRL implicit prompt, `chosen` / `rejected` are whole conversations.
- `hh`: Anthropic HH-RLHF, `chosen` / `rejected` are "\\n\\nHuman: …\\n\\nAssistant: …" text.
- `keys`: `trl` under caller-chosen key names (OpenRLHF's --prompt_key and friends).
- `sharegpt`: `conversations` (ShareGPT {from, value} turns or messages) / `chosen` / `rejected`, as LLaMA-Factory
  keeps preference data.
- `helpsteer2-preference`: `response_1` / `response_2` and a strength in −3…3; 0 is a tie.
- `helpsteer2`: attribute ratings of one response (a RatedResponse, not a pair).

Pair formats also carry the optional `margin`, `subset` and `id` fields; rated rows `subset` and `id`.

When the two sides of a pair are conversations that differ before their final assistant turns (5 of the
2,312 rows of HH-RLHF harmless-base test, for instance), the pair keeps the longest shared prefix of whole
turns as its prompt and each side's remaining turns before its final response as that side's context
(`PreferencePair.chosen_turns` / `rejected_turns`), as TRL's implicit-prompt extraction splits them. Such
pairs report `diverged`, and loaders count them. `strict=True` makes them an error instead.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Mapping, Sequence

from rewardkit.data.content_parts import ContentError, content_text
from rewardkit.data.jsonl import json_type_name
from rewardkit.data.schemas import Conversation, Message, PreferencePair, RatedResponse, as_conversation
from rewardkit.errors import ConfigError, DataError

ROLES = ("system", "user", "assistant", "tool")
SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system", "user": "user", "assistant": "assistant",
                  "tool": "tool"}
"""ShareGPT's `from` names (messages as {"from", "value"}) and the roles they are."""
HELPSTEER2_ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
ANSWER_KEYS = ("reference_answer", "answer")
"""Fields that may hold a row's correct final answer (Sample.reference_answer); the first one present is read."""
STRENGTH_KEYS = ("preference_strength", "overall_preference")
"""Names in use for HelpSteer2-Preference's strength column; the first one present is read."""


@dataclass(frozen=True)
class Skip:
    """A row that is legitimately not a record (a HelpSteer2-Preference tie). Loaders count these."""

    reason: str


class LocatedRow:
    """One input row plus where it came from, so every error names file, line and field."""

    def __init__(self, data: Any, file: str | None, line: int | None, strict: bool = False):
        self.file, self.line, self.strict = file, line, strict
        if not isinstance(data, Mapping):
            raise self.error(f"expected a row object, got {json_type_name(data)}")
        self.data = data

    def error(self, message: str, field: str | None = None) -> DataError:
        return DataError(message, file=self.file, line=self.line, field=field)

    def required(self, key: str) -> Any:
        if key not in self.data:
            keys = ", ".join(sorted(map(str, self.data))[:12]) or "no fields"
            raise self.error(f"missing (the row has: {keys})", key)
        if _is_null(self.data[key]):
            raise self.error("is null", key)
        return self.data[key]

    def optional(self, key: str) -> Any:
        value = self.data.get(key)
        return None if _is_null(value) else value

    def text(self, key: str) -> str:
        value = self.required(key)
        if not isinstance(value, str):
            raise self.error(f"must be a string, got {json_type_name(value)}", key)
        return value

    def number(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"must be a number, got {json_type_name(value)}", key)
        return float(value)

    def conversation(self, key: str) -> Conversation:
        """A string (one user turn) or a list of {role, content} messages."""
        value = self.required(key)
        return as_conversation(value) if isinstance(value, str) else self.messages(key, value)

    def messages(self, key: str, value: Any) -> Conversation:
        if not isinstance(value, (list, tuple)):
            kind = json_type_name(value)
            raise self.error(f"must be a string or a list of {{role, content}} messages, got {kind}", key)
        if not value:
            raise self.error("is an empty message list", key)
        return tuple(self.message(f"{key}[{i}]", item) for i, item in enumerate(value))

    def message(self, where: str, item: Any) -> Message:
        if not isinstance(item, Mapping):
            raise self.error(f"must be a {{role, content}} object, got {json_type_name(item)}", where)
        if "role" not in item and "from" in item:  # ShareGPT's {"from", "value"}
            return self.sharegpt_message(where, item)
        role, content = item.get("role"), item.get("content")
        if role not in ROLES:
            raise self.error(f"must be one of {', '.join(ROLES)}, got {role!r}", f"{where}.role")
        try:
            return Message(role, content_text(content))
        except ContentError as err:
            raise self.error(err.reason, f"{where}.content{err.where}") from None

    def sharegpt_message(self, where: str, item: Mapping) -> Message:
        role = SHAREGPT_ROLES.get(item["from"])
        if role is None:
            raise self.error(f"must be one of {', '.join(SHAREGPT_ROLES)}, got {item['from']!r}", f"{where}.from")
        try:
            return Message(role, content_text(item.get("value")))
        except ContentError as err:
            raise self.error(err.reason, f"{where}.value{err.where}") from None

    def margin(self, key: str = "margin") -> float | None:
        value = self.optional(key)
        return None if value is None else self.number(key, value)

    def meta(self) -> dict[str, str | None]:
        """The optional `subset` and `id` fields, checked, as keyword arguments for a record."""
        subset, id_ = self.optional("subset"), self.optional("id")
        if subset is not None and not isinstance(subset, str):
            raise self.error(f"must be a string, got {json_type_name(subset)}", "subset")
        if id_ is not None and (isinstance(id_, bool) or not isinstance(id_, (str, int))):
            raise self.error(f"must be a string or an integer, got {json_type_name(id_)}", "id")
        return {"subset": subset, "id": None if id_ is None else str(id_)}


    def pair_meta(self) -> dict[str, str | None]:
        """`meta()` plus the prompt's reference answer, for a PreferencePair."""
        return {**self.meta(), "reference_answer": self.reference_answer()}

    def reference_answer(self) -> str | None:
        """`reference_answer` (a string or a number, else an error), else `answer` when it is a string or a number
        (a generic name other datasets use for other things: anything else there is not read)."""
        for key in ANSWER_KEYS:
            value = self.optional(key)
            readable = not isinstance(value, bool) and isinstance(value, (str, int, float))
            if value is None or (key != "reference_answer" and not readable):
                continue
            if not readable:
                raise self.error(f"must be a string or a number, got {json_type_name(value)}", key)
            return value if isinstance(value, str) else str(value)
        return None

    def reference_responses(self) -> tuple[str, ...]:
        """`reference_responses`: a list of strings (other responses to the prompt, for shaping 'par')."""
        value = self.optional("reference_responses")
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise self.error(f"must be a list of strings, got {json_type_name(value)}", "reference_responses")
        return tuple(value)


def row_references(row: Mapping[str, Any], *, file: str | None = None, line: int | None = None
                   ) -> tuple[str | None, tuple[str, ...]]:
    """(reference answer, reference responses) of a row, checked; (None, ()) when it has neither."""
    r = LocatedRow(row, file, line)
    return r.reference_answer(), r.reference_responses()


def _is_null(value: Any) -> bool:
    """None, or NaN (how pandas and CSV readers spell a missing number)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _completion(row: LocatedRow, key: str) -> tuple[Conversation, str]:
    """A string response, one assistant message, or messages ending in an assistant turn (earlier turns extend the
    prompt)."""
    value = row.required(key)
    if isinstance(value, str):
        return (), value
    if isinstance(value, Mapping) and ("role" in value or "from" in value):  # one message (ShareGPT-style data)
        message = row.message(key, value)
        if message.role != "assistant":
            raise row.error(f"must be an assistant message, is a '{message.role}' one", key)
        return (), message.content
    messages = row.messages(key, value)
    if messages[-1].role != "assistant":
        raise row.error(f"must end with an assistant message, ends with '{messages[-1].role}'", key)
    return messages[:-1], messages[-1].content


@dataclass(frozen=True)
class TwoSides:
    """The turns both sides share, then each side's own earlier turns and its final response."""

    shared: Conversation
    first_turns: Conversation
    first: str
    second_turns: Conversation
    second: str


def split_sides(row: LocatedRow, first_key: str, second_key: str, first_turns: Conversation, first: str,
                second_turns: Conversation, second: str) -> TwoSides:
    """The longest common prefix of whole turns is shared; what follows is each side's own (row.strict: an
    error when the sides differ before their final responses).

    >>> u, a = Message("user", "Hi"), Message("assistant", "Yo")
    >>> split_sides(LocatedRow({}, None, None), "c", "r", (u, a, Message("user", "?")), "x", (u,), "y").first_turns
    (Message(role='assistant', content='Yo'), Message(role='user', content='?'))
    """
    if first_turns == second_turns:
        return TwoSides(first_turns, (), first, (), second)
    if row.strict:
        raise row.error(f"turns before the final assistant message differ from '{first_key}' (strict_rows)",
                        second_key)
    common = 0
    while common < min(len(first_turns), len(second_turns)) and first_turns[common] == second_turns[common]:
        common += 1
    return TwoSides(first_turns[:common], first_turns[common:], first, second_turns[common:], second)


def _two_completions(row: LocatedRow, first_key: str, second_key: str) -> TwoSides:
    """Both responses and the turns before them (split_sides)."""
    first_turns, first = _completion(row, first_key)
    second_turns, second = _completion(row, second_key)
    return split_sides(row, first_key, second_key, first_turns, first, second_turns, second)


def _pair(prompt: Conversation, sides: TwoSides, chosen_first: bool, margin: float | None,
          meta: dict) -> PreferencePair:
    """A PreferencePair from the two sides, `chosen_first` saying which side is chosen."""
    if chosen_first:
        return PreferencePair(prompt + sides.shared, sides.first, sides.second, margin, **meta,
                              chosen_turns=sides.first_turns, rejected_turns=sides.second_turns)
    return PreferencePair(prompt + sides.shared, sides.second, sides.first, margin, **meta,
                          chosen_turns=sides.second_turns, rejected_turns=sides.first_turns)


def keys_pair(
    row: Mapping[str, Any],
    *,
    prompt_key: str = "prompt",
    chosen_key: str = "chosen",
    rejected_key: str = "rejected",
    margin_key: str = "margin",
    file: str | None = None,
    line: int | None = None,
    strict: bool = False,
) -> PreferencePair:
    """Explicit prompt / chosen / rejected under any key names (OpenRLHF style).

    >>> keys_pair({"q": "2+2?", "a": "4", "b": "5"}, prompt_key="q", chosen_key="a", rejected_key="b").chosen
    '4'
    """
    r = LocatedRow(row, file, line, strict)
    prompt = r.conversation(prompt_key)
    return _pair(prompt, _two_completions(r, chosen_key, rejected_key), True, r.margin(margin_key), r.pair_meta())


def trl_pair(row: Mapping[str, Any], *, file: str | None = None, line: int | None = None,
             strict: bool = False) -> PreferencePair:
    """TRL's explicit-prompt format: `prompt`, `chosen`, `rejected` (strings or message lists).

    >>> trl_pair({"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."}).prompt
    (Message(role='user', content='Hi'),)
    """
    return keys_pair(row, file=file, line=line, strict=strict)


def sharegpt_pair(row: Mapping[str, Any], *, file: str | None = None, line: int | None = None,
                  strict: bool = False) -> PreferencePair:
    """ShareGPT-style preference rows (as LLaMA-Factory keeps them): the prompt turns in `conversations`, each
    response in `chosen` / `rejected` (one {from, value} message, a message list or a string).

    >>> sharegpt_pair({"conversations": [{"from": "human", "value": "Hi"}],
    ...                "chosen": {"from": "gpt", "value": "Hello"}, "rejected": {"from": "gpt", "value": "Go"}}).chosen
    'Hello'
    """
    return keys_pair(row, prompt_key="conversations", file=file, line=line, strict=strict)


def trl_implicit_pair(
    row: Mapping[str, Any], *, file: str | None = None, line: int | None = None, strict: bool = False
) -> PreferencePair:
    """TRL's implicit-prompt format: `chosen` and `rejected` are whole conversations.

    With message lists the prompt is the turns both share before their final assistant messages (see the
    module docstring for sides that diverge earlier). With plain text it is the longest shared prefix, cut back
    to a word break.

    >>> trl_implicit_pair({"chosen": "Sky colour? Blue.", "rejected": "Sky colour? Green."}).chosen
    'Blue.'
    """
    r = LocatedRow(row, file, line, strict)
    chosen, rejected = r.required("chosen"), r.required("rejected")
    if isinstance(chosen, str) and isinstance(rejected, str):
        prompt, chosen_text, rejected_text = _split_shared_text(r, chosen, rejected)
        return PreferencePair(as_conversation(prompt), chosen_text, rejected_text, r.margin(), **r.pair_meta())
    if isinstance(chosen, str) or isinstance(rejected, str):
        raise r.error("must be the same kind as 'chosen' (both text or both message lists)", "rejected")
    sides = _two_completions(r, "chosen", "rejected")
    if not sides.shared:
        raise r.error("shares no turns with 'rejected' before the final assistant message, so no prompt", "chosen")
    return _pair((), sides, True, r.margin(), r.pair_meta())


def _split_shared_text(r: LocatedRow, chosen: str, rejected: str) -> tuple[str, str, str]:
    if chosen == rejected:
        raise r.error("is identical to 'chosen', so the prompt cannot be told apart", "rejected")
    shared = os.path.commonprefix([chosen, rejected])
    cut = max(shared.rfind(space) for space in (" ", "\n", "\t"))
    prompt = chosen[: max(cut, 0)].rstrip()
    if not prompt:
        raise r.error("shares no prompt text with 'chosen'", "rejected")
    return prompt, chosen[cut:].lstrip(), rejected[cut:].lstrip()


_HH_TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):[ \t]?")


def hh_pair(row: Mapping[str, Any], *, file: str | None = None, line: int | None = None,
            strict: bool = False) -> PreferencePair:
    """Anthropic HH-RLHF text: the last Assistant turn is the response, everything before it the prompt.

    >>> pair = hh_pair({"chosen": "Human: Hi\\n\\nAssistant: Hey!", "rejected": "Human: Hi\\n\\nAssistant: No."})
    >>> pair.prompt, pair.chosen
    ((Message(role='user', content='Hi'),), 'Hey!')
    """
    r = LocatedRow(row, file, line, strict)
    chosen_turns, chosen = _hh_split(r, "chosen")
    rejected_turns, rejected = _hh_split(r, "rejected")
    sides = split_sides(r, "chosen", "rejected", chosen_turns, chosen, rejected_turns, rejected)
    if not sides.shared:
        raise r.error("shares no turns with 'chosen' before the last Assistant turn, so no prompt", "rejected")
    return _pair((), sides, True, r.margin(), r.pair_meta())


def _hh_split(r: LocatedRow, key: str) -> tuple[Conversation, str]:
    parts = _HH_TURN.split(r.text(key))
    if len(parts) < 3:
        raise r.error("has no '\\n\\nHuman:' / '\\n\\nAssistant:' turns", key)
    if parts[0].strip():
        raise r.error(f"has text before the first turn marker: {parts[0].strip()[:40]!r}", key)
    turns = tuple(
        Message("user" if speaker == "Human" else "assistant", text.strip())
        for speaker, text in zip(parts[1::2], parts[2::2])
    )
    if turns[-1].role != "assistant":
        raise r.error("does not end with an 'Assistant:' turn", key)
    if len(turns) < 2:
        raise r.error("has no 'Human:' turn before the last 'Assistant:' turn", key)
    return turns[:-1], turns[-1].content


def helpsteer2_preference_pair(
    row: Mapping[str, Any], *, file: str | None = None, line: int | None = None, strict: bool = False
) -> PreferencePair | Skip:
    """HelpSteer2-Preference: strength < 0 prefers `response_1`, > 0 `response_2`; margin = |strength|.

    A strength of 0 is a tie and comes back as a `Skip`, which loaders count.

    >>> row = {"prompt": "Hi", "response_1": "A", "response_2": "B", "preference_strength": -2}
    >>> helpsteer2_preference_pair(row).chosen, helpsteer2_preference_pair(row).margin
    ('A', 2.0)
    """
    r = LocatedRow(row, file, line, strict)
    key = next((name for name in STRENGTH_KEYS if name in r.data), STRENGTH_KEYS[0])
    strength = r.number(key, r.required(key))
    if not -3 <= strength <= 3:
        raise r.error(f"must be between -3 and 3, got {strength:g}", key)
    prompt = r.conversation("prompt")
    sides = _two_completions(r, "response_1", "response_2")
    if strength == 0:
        return Skip(f"tie ({key} 0)")
    return _pair(prompt, sides, strength < 0, abs(strength), r.pair_meta())


def helpsteer2_rated(
    row: Mapping[str, Any],
    *,
    attributes: Sequence[str] | None = None,
    file: str | None = None,
    line: int | None = None,
    strict: bool = False,
) -> RatedResponse:
    """HelpSteer2 attribute rows: `prompt`, `response` and one number per attribute.

    `attributes` replaces the default five (helpfulness, correctness, coherence, complexity,
    verbosity). A missing, null or NaN rating becomes None.

    >>> helpsteer2_rated({"prompt": "Hi", "response": "Hello", "helpfulness": 4}).ratings["helpfulness"]
    4.0
    """
    r = LocatedRow(row, file, line)
    ratings: dict[str, float | None] = {}
    for name in HELPSTEER2_ATTRIBUTES if attributes is None else attributes:
        value = r.optional(name)
        ratings[name] = None if value is None else r.number(name, value)
    return RatedResponse(r.conversation("prompt"), r.text("response"), ratings, **r.meta())


PairParser = Callable[..., "PreferencePair | Skip"]

PAIR_FORMATS: dict[str, PairParser] = {
    "trl": trl_pair,
    "trl-implicit": trl_implicit_pair,
    "hh": hh_pair,
    "keys": keys_pair,
    "sharegpt": sharegpt_pair,
    "helpsteer2-preference": helpsteer2_preference_pair,
}
RATED_FORMATS = ("helpsteer2",)


def pair_parser(format: str, strict: bool = False, **keys: str) -> PairParser:
    """The parser for a pair format name; `keys` (prompt_key=... ) are bound for the `keys` format, and
    `strict` (pairs diverging before their final responses are errors) for every format."""
    if format not in PAIR_FORMATS:
        hint = " (attribute ratings: use load_rated)" if format in RATED_FORMATS else ""
        raise ConfigError(f"unknown pair format '{format}'{hint}; choose from {', '.join(PAIR_FORMATS)}")
    return partial(PAIR_FORMATS[format], strict=strict, **keys)


_HH_START = re.compile(r"\s*Human:")


def detect_format(row: Mapping[str, Any], *, file: str | None = None, line: int | None = None) -> str:
    """Name the format of a row from its keys (loaders use the first row for format="auto").

    >>> detect_format({"chosen": "\\n\\nHuman: Hi\\n\\nAssistant: Hello", "rejected": "..."})
    'hh'
    """
    keys = set(LocatedRow(row, file, line).data)
    if {"response_1", "response_2"} <= keys and keys & set(STRENGTH_KEYS):
        return "helpsteer2-preference"
    if {"chosen", "rejected"} <= keys:
        if "prompt" in keys:
            return "trl"
        if "conversations" in keys:
            return "sharegpt"
        chosen = row["chosen"]
        return "hh" if isinstance(chosen, str) and _HH_START.match(chosen) else "trl-implicit"
    if {"prompt", "response"} <= keys and keys & set(HELPSTEER2_ATTRIBUTES):
        return "helpsteer2"
    raise DataError(
        f"cannot tell the data format from the keys {sorted(map(str, keys))}; expected chosen/rejected "
        "(trl, trl-implicit, hh; sharegpt with conversations), response_1/response_2/preference_strength "
        "(helpsteer2-preference) or "
        "prompt/response/helpfulness (helpsteer2); for other names pass format='keys' and prompt_key=...",
        file=file,
        line=line,
    )


def conversation_field(row: Mapping[str, Any], key: str = "prompt", *, file: str | None = None,
                       line: int | None = None) -> Conversation:
    """A row's prompt field, a string (one user turn) or {role, content} messages, checked as pair formats check it.

    >>> conversation_field({"prompt": "Hi"})
    (Message(role='user', content='Hi'),)
    """
    return LocatedRow(row, file, line).conversation(key)
