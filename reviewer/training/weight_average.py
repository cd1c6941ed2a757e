"""Exponential moving average (EMA) of a network's weights during training.

The average is a second copy of the network whose parameters and BatchNorm
statistics trail the trained ones. It changes less from one epoch to the next
than the trained weights, so the epoch chosen on the validation split depends
less on the noise of the last few batches.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """EMA of every floating-point parameter and buffer of a network.

    After update ``n`` (counted from 0) the average moves towards the trained
    weights by ``1 - min(decay, (1 + n) / (10 + n))``. The ramp lets the first
    updates count fully, so that the average does not stay near the random
    initial weights for the first ``1 / (1 - decay)`` steps.
    """

    def __init__(self, net: nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), not {decay}")
        self.decay = decay
        self.updates = 0
        self.net = copy.deepcopy(net).eval()
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        """Move the average towards the current weights of ``net``."""
        decay = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        trained = net.state_dict()
        for key, averaged in self.net.state_dict().items():
            if averaged.is_floating_point():
                averaged.lerp_(trained[key].detach(), 1.0 - decay)
            else:  # BatchNorm's batch counter
                averaged.copy_(trained[key])
        self.updates += 1
