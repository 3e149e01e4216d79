"""`score` given something other than a list of Samples: a TypeError naming the item, in every family (Python
users passing strings or dicts got "AttributeError: 'str' object has no attribute 'prompt'")."""

import pytest

from rewardkit import families
from rewardkit.data.schemas import Sample
from rewardkit.models import scalar
from rewardkit.models.combined import CombinedReward
from rewardkit.models.tiny_lm import save_tiny_causal_lm

SAMPLE = Sample.from_text("What is 2+2?", "4")


@pytest.fixture(scope="module")
def models(tiny_bert, tmp_path_factory):
    lm = save_tiny_causal_lm(tmp_path_factory.mktemp("score_inputs") / "lm", seed=0)
    model = scalar.load(tiny_bert)
    return {"scalar": model, "implicit": families.build("implicit:dpo", policy=lm, reference=lm),
            "process": families.build("process:implicit", policy=lm, reference=lm),
            "rules": CombinedReward(None, "format")}


@pytest.mark.parametrize("family", ["scalar", "implicit", "process", "rules"])
@pytest.mark.parametrize("batch, named", [(["What is 2+2? 4"], "item 0 is a str"),
                                          ([SAMPLE, {"prompt": "Hi", "response": "Hello"}], "item 1 is a dict"),
                                          (SAMPLE, "got one Sample; wrap it in a list")])
def test_score_names_an_item_that_is_not_a_sample(family, batch, named, models):
    with pytest.raises(TypeError, match=named):
        models[family].score(batch)
    assert len(models[family].score([SAMPLE]).rewards) == 1
