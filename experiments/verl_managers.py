"""rewardkit.integrations.verl through verl's own reward managers (verl is not a test dependency: verl 0.9 pins
transformers<5.11, this project runs a newer one, so verl goes into a folder of its own):

    pip install --no-deps --target /tmp/verl_pkgs verl==0.9.1 "tensordict>=0.8,<=0.10" codetiming omegaconf \\
        hydra-core antlr4-python3-runtime==4.9.3 pylatexenc pyvers aiohttp orjson
    PYTHONPATH=/tmp/verl_pkgs python experiments/verl_managers.py MODEL_FOLDER      # ≈ 20 s

Starts a rewardkit server on MODEL_FOLDER in this process, builds a two-rollout DataProto the way verl's trainer
hands one to its reward manager (left-padded prompt ids, right-padded response ids, data_source, reward_model's
ground_truth, extra_info holding the prompt under "question"), loads the functions by verl's own
`get_custom_reward_fn` from a config naming `pkg://rewardkit.integrations.verl`, and prints the rewards of verl's
naive manager, its batch manager and its reward-loop naive manager beside `model.score` of the same samples,
then the error of a config whose prompt_key the rows lack.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time


def main(model_dir: str) -> None:
    import numpy as np
    import torch
    import uvicorn
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl import DataProto
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager as RewardLoopNaive
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager.batch import BatchRewardManager
    from verl.workers.reward_manager.naive import NaiveRewardManager

    import rewardkit
    from rewardkit.serving.app import create_app

    model = rewardkit.load(model_dir)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(model), host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"

    tok = AutoTokenizer.from_pretrained(model_dir)
    questions, answers = ["What is 17 + 25?", "Name a prime number."], ["17 + 25 = 42", "Four is prime."]
    prompt_ids = [tok(q, add_special_tokens=False)["input_ids"] for q in questions]
    response_ids = [tok(a, add_special_tokens=False)["input_ids"] for a in answers]
    width_p, width_r = max(map(len, prompt_ids)), max(map(len, response_ids)) + 3
    prompts = torch.zeros(2, width_p, dtype=torch.long)
    responses = torch.zeros(2, width_r, dtype=torch.long)
    mask = torch.zeros(2, width_p + width_r, dtype=torch.long)
    for i in range(2):
        prompts[i, width_p - len(prompt_ids[i]):] = torch.tensor(prompt_ids[i])
        mask[i, width_p - len(prompt_ids[i]):width_p] = 1
        responses[i, :len(response_ids[i])] = torch.tensor(response_ids[i])
        mask[i, width_p:width_p + len(response_ids[i])] = 1
    data = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask},
        non_tensors={"data_source": np.array(["gsm8k", "gsm8k"], dtype=object),
                     "reward_model": np.array([{"ground_truth": "42"}, {"ground_truth": "2"}], dtype=object),
                     "extra_info": np.array([{"question": q, "index": i} for i, q in enumerate(questions)],
                                            dtype=object)})
    decoded = [tok.decode(ids, skip_special_tokens=True) for ids in response_ids]
    expected = model.score([rewardkit.Sample.from_text(q, a) for q, a in zip(questions, decoded)]).rewards

    def function(name: str, **kwargs):
        return get_custom_reward_fn(OmegaConf.create({"reward": {"custom_reward_function": {
            "path": "pkg://rewardkit.integrations.verl", "name": name, "reward_kwargs": {"url": url, **kwargs}}}}))

    single, batch = function("compute_score"), function("compute_score_batch")
    naive = NaiveRewardManager(tok, num_examine=0, compute_score=single)(data, return_dict=True)
    batched = BatchRewardManager(tok, num_examine=0, compute_score=batch)(data, return_dict=True)

    async def reward_loop() -> list[float]:
        manager = RewardLoopNaive(OmegaConf.create({}), tok, single)
        results = await asyncio.gather(*(manager.run_single(data[i:i + 1]) for i in range(len(data))))
        return [r["reward_score"] for r in results]

    print("model.score          ", expected)
    print("verl naive manager   ", naive["reward_tensor"].sum(-1).tolist())
    print("verl batch manager   ", batched["reward_tensor"].sum(-1).tolist())
    print("verl reward loop     ", asyncio.new_event_loop().run_until_complete(reward_loop()))
    try:
        NaiveRewardManager(tok, num_examine=0, compute_score=function("compute_score", prompt_key="problem"))(data)
    except Exception as error:  # noqa: BLE001 - printed as verl's user would see it
        print("prompt_key missing:  ", type(error).__name__, error)


if __name__ == "__main__":
    main(sys.argv[1])
