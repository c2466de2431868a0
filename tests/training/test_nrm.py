import torch

from anit.training import nrm


def test_beta_schedules():
    d = torch.tensor([0.0, 0.5, 1.0, 2.0])
    assert nrm.beta_linear(d, 1.0, 5.0).tolist() == [1.0, 3.0, 5.0, 5.0]
    levels = nrm.beta_levels(torch.tensor([0.1, 0.3, 0.59, 0.9]), [0.3, 0.6], [1.0, 3.0, 5.0])
    assert levels.tolist() == [1.0, 3.0, 3.0, 5.0]


def test_delta0_grows_with_beta_and_spares_padding():
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    lengths = torch.tensor([3, 5])
    g = torch.Generator().manual_seed(0)
    small = nrm.initial_delta(torch.Size([2, 5, 8]), torch.tensor([1.0, 1.0]), lengths, mask, 1.0, g)
    g = torch.Generator().manual_seed(0)
    large = nrm.initial_delta(torch.Size([2, 5, 8]), torch.tensor([4.0, 4.0]), lengths, mask, 1.0, g)
    assert torch.allclose(large, 4 * small)
    assert large.abs().mean() > small.abs().mean()
    assert (small[0, 3:] == 0).all()
    bound = 1.0 / (3 * 8) ** 0.5
    assert small[0].abs().max() <= bound


def test_ascent_normalises_per_sample_and_flags_non_finite():
    delta0 = torch.zeros(2, 3, 4)
    grad = torch.ones(2, 3, 4)
    grad[1, 0, 0] = float("nan")
    mask = torch.ones(2, 3)
    delta1, finite = nrm.ascent(delta0, grad, 2.0, mask)
    assert finite.tolist() == [True, False]
    assert torch.isclose(delta1[0].norm(), torch.tensor(2.0))
    assert (delta1[1] == 0).all()


def test_ascent_takes_one_step_size_per_sample():
    grad = torch.randn(3, 4, 5)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0]])
    alpha = torch.tensor([0.5, 2.0, 0.0])
    delta1, _ = nrm.ascent(torch.zeros(3, 4, 5), grad, alpha, mask)
    masked = (grad * mask.unsqueeze(-1)).flatten(1).norm(dim=1) / grad.flatten(1).norm(dim=1)
    assert torch.allclose(delta1.flatten(1).norm(dim=1), alpha * masked)


def test_token_losses_count_only_answer_tokens():
    labels = torch.tensor([[-100, -100, 2, 3], [-100, 4, -100, -100]])
    keep = nrm.answer_positions(labels)
    assert keep.tolist() == [0, 1, 2]
    logits = torch.zeros(2, len(keep), 5)
    sums, counts = nrm.token_losses(logits, labels[:, 1:][:, keep])
    assert counts.tolist() == [2, 1]
    assert torch.allclose(sums, torch.log(torch.tensor(5.0)) * torch.tensor([2.0, 1.0]))


def test_kept_logits_give_the_full_loss():
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 7)
    labels = torch.tensor([[-100, -100, -100, 1, 2, -100], [-100, -100, 3, 4, -100, -100]])
    full = nrm.token_losses(logits[:, :-1], labels[:, 1:])
    keep = nrm.answer_positions(labels)
    kept = nrm.token_losses(logits[:, keep], labels[:, 1:][:, keep])
    assert torch.allclose(full[0], kept[0]) and torch.equal(full[1], kept[1])
