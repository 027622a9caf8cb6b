"""Batching and the supervised contrastive loss used to tune the intent classifier's top layers."""
import numpy as np
import torch
import torch.nn.functional as F

from bot.nlu.fine_tuning import intent_batches, length_batches, pad, supervised_contrastive_loss


def test_intent_batches_hold_every_example_once_in_same_intent_groups():
    y = np.repeat(np.arange(9), 10)  # 9 intents x 10 examples
    batches = intent_batches(y, batch_size=16, per_intent=4, rng=np.random.default_rng(0))
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(y)))
    assert all(len(batch) >= 16 for batch in batches[:-1])
    for batch in batches:  # every example has a same-intent mate unless its intent has a lone leftover
        intents, counts = np.unique(y[batch], return_counts=True)
        assert counts.max() >= 2 and len(intents) < len(batch)


def test_length_batches_group_similar_lengths():
    lengths = [3, 40, 4, 41, 5, 42, 6, 43]
    batches = length_batches(lengths, batch_size=4, rng=np.random.default_rng(1))
    assert sorted(i for b in batches for i in b) == list(range(8))
    assert sorted(sorted(lengths[i] for i in b) for b in batches) == [[3, 4, 5, 6], [40, 41, 42, 43]]


def test_contrastive_loss_prefers_features_clustered_by_intent():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    centres = F.normalize(torch.randn(3, 16, generator=torch.Generator().manual_seed(0)), dim=-1)
    clustered = F.normalize(centres[labels] + 0.05 * torch.randn(6, 16, generator=torch.Generator().manual_seed(1)),
                            dim=-1)
    mixed = clustered[torch.tensor([0, 2, 4, 1, 3, 5])]  # same vectors, mates now apart
    assert supervised_contrastive_loss(clustered, labels, 0.1) < supervised_contrastive_loss(mixed, labels, 0.1)


def test_contrastive_loss_without_mates_is_zero_and_differentiable():
    features = F.normalize(torch.randn(3, 8), dim=-1).requires_grad_()
    loss = supervised_contrastive_loss(features, torch.tensor([0, 1, 2]), 0.1)
    loss.backward()
    assert loss.item() == 0.0 and features.grad is not None


def test_pad_masks_the_padding():
    states = [torch.ones(2, 4), torch.ones(5, 4)]
    hidden, mask = pad(states, [0, 1])
    assert hidden.shape == (2, 5, 4) and mask.sum().item() == 7 and hidden[0, 2:].abs().sum().item() == 0
