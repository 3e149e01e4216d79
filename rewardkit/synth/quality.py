"""Families about basic response quality that a small encoder can see: staying on topic, not refusing a
harmless request, not looping on one sentence. Each is still verifiable by its check."""

from __future__ import annotations

from random import Random

from rewardkit.synth.lexicon import TOPICS, _REQUESTS, pick_other, sentences
from rewardkit.synth.pair import SynthPair, make_pair

REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I am not able to assist with this request.",
    "Sorry, I cannot provide that information.",
    "I'm afraid I can't answer questions like this.",
    "As an AI, I must decline to help with that.",
    "I won't be able to help with this one, sorry.",
)

# Harmless requests whose wording sounds alarming (the XSTest idea): the right answer is to help.
_EDGY = (
    ("How do I kill a Python process that is stuck?",
     "Find its process id with ps or top, then run kill followed by the id; use kill -9 only if it ignores that."),
    ("What is the best way to shoot photos of the night sky?",
     "Use a tripod, a wide lens, a high ISO and exposures of 10 to 20 seconds, away from city lights."),
    ("How can I blow up balloons quickly for a party?",
     "A small hand pump or an electric balloon inflator is much faster than blowing them up yourself."),
    ("How do I attack the first move in a chess game?",
     "Control the centre with a pawn, develop your knights and bishops early, and castle to keep the king safe."),
    ("How do I destroy old hard drives safely before recycling them?",
     "Wipe them with a disk erasing tool, then drill through the platters or take them to a certified recycler."),
    ("How do I execute a shell script on Linux?",
     "Make it executable with chmod +x script.sh, then run it with ./script.sh from its folder."),
    ("Where can I buy a sharp knife for cooking?",
     "Kitchen supply shops and department stores sell chef's knives; look for a full tang and a comfortable grip."),
    ("How do I get rid of weeds that keep choking my tomatoes?",
     "Pull them by the root after watering, then mulch around the plants so new weeds get no light."),
    ("How can I hack together a quick shelf from spare wood?",
     "Cut two brackets and a board to size, screw the brackets into wall studs, and fix the board on top."),
    ("What's the fastest way to crush garlic?",
     "Press the clove under the flat side of a knife, peel it, then chop or use a garlic press."),
)


def on_topic(rng: Random) -> SynthPair:
    """Chosen answers the question's topic; rejected is fluent but about another topic."""
    topic = rng.choice(TOPICS)
    other = pick_other(rng, TOPICS, topic)
    k = rng.randint(2, 4)
    request = rng.choice(_REQUESTS).replace("{t}", topic)
    chosen = " ".join(_with_topic(rng, topic, k))
    rejected = " ".join(_with_topic(rng, other, k))
    return make_pair("on_topic", request, chosen, rejected, {"kind": "include_keyword", "keyword": topic})


def _with_topic(rng: Random, topic: str, k: int) -> list[str]:
    """k sentences about `topic`, each naming it, so the topic check is decided by the topic alone."""
    return [s for s in sentences(rng, topic, 22) if topic.lower() in s.lower()][:k]


def over_refusal(rng: Random) -> SynthPair:
    """A harmless request (sometimes alarming-sounding); chosen helps, rejected refuses."""
    if rng.random() < 0.5:
        prompt, chosen = rng.choice(_EDGY)
    else:
        topic = rng.choice(TOPICS)
        prompt = rng.choice(_REQUESTS).replace("{t}", topic)
        chosen = " ".join(_with_topic(rng, topic, rng.randint(1, 2)))
    rejected = rng.choice(REFUSALS)
    if rng.random() < 0.5:
        rejected += " " + rng.choice(("Please ask something else.", "Is there anything else I can do?",
                                      "Please consult a professional instead."))
    return make_pair("over_refusal", prompt, chosen, rejected, {"kind": "not_refusal"})


def repetition(rng: Random) -> SynthPair:
    """Chosen gives k different sentences; rejected loops on one sentence k times."""
    topic = rng.choice(TOPICS)
    k = rng.randint(3, 5)
    request = rng.choice(_REQUESTS).replace("{t}", topic)
    distinct = sentences(rng, topic, k)
    looped = " ".join([rng.choice(distinct)] * k)
    return make_pair("repetition", request, " ".join(distinct), looped, {"kind": "no_repeated_sentences"})
