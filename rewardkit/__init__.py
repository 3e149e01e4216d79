"""rewardkit: train, evaluate, serve and apply reward models.

Heavy libraries (torch, transformers) are imported lazily so that `rewardkit --help` stays fast.

    >>> import rewardkit
    >>> model = rewardkit.load("runs/quickstart/model")          # doctest: +SKIP
    >>> model.score([rewardkit.Sample.from_text("2+2?", "4")])    # doctest: +SKIP
"""

from rewardkit.data.schemas import Message, PreferencePair, RatedResponse, Sample
from rewardkit.errors import RewardkitError
from rewardkit.version import __version__

__all__ = ["Message", "PreferencePair", "RatedResponse", "Sample", "RewardkitError", "load", "__version__"]


def load(path: str, **options):
    """Load any saved reward model (or a plain HF sequence-classification model) from a folder or hub id; the
    folder's rewardkit.json names its family (rewardkit.families). A spec such as "implicit:simpo" is built over
    the models its options name: `rewardkit.load("implicit:dpo", policy=P, reference=R)`."""
    from rewardkit.families import load as _load

    return _load(path, **options)
