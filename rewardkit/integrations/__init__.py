"""Adapters that plug rewardkit rewards into RL trainers (trl.py: TRL's `reward_funcs`)."""
