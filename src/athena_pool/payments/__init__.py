"""Paying miners: the reward schemes (`schemes`) and the payment processor."""
