"""Exponential moving average of network weights."""

import pytest
import torch
from torch import nn

from reviewer.training.weight_average import WeightAverage


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


def test_first_update_ramped():
    net = _net()
    average = WeightAverage(net, decay=0.99)
    start = average.net[0].weight.clone()
    with torch.no_grad():
        net[0].weight.add_(1.0)
    average.update(net)
    # The first update uses decay min(0.99, 1 / 10) = 0.1.
    torch.testing.assert_close(average.net[0].weight, start + 0.9)


def test_late_update_uses_decay():
    net = _net()
    average = WeightAverage(net, decay=0.5)
    average.updates = 1000
    start = average.net[0].weight.clone()
    with torch.no_grad():
        net[0].weight.add_(2.0)
    average.update(net)
    torch.testing.assert_close(average.net[0].weight, start + 1.0)


def test_batch_counter_copied():
    net = _net()
    average = WeightAverage(net, decay=0.9)
    net.train()
    net(torch.randn(4, 3))
    average.update(net)
    assert int(average.net[1].num_batches_tracked) == 1


def test_average_independent_copy():
    net = _net()
    average = WeightAverage(net, decay=0.9)
    with torch.no_grad():
        net[0].bias.add_(5.0)
    assert not torch.equal(average.net[0].bias, net[0].bias)


def test_average_frozen():
    average = WeightAverage(_net(), decay=0.9)
    assert not any(p.requires_grad for p in average.net.parameters())


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_invalid_decay_raises(decay):
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(_net(), decay=decay)
