"""Multinomial logistic regression on a sparse and a dense feature block, fitted by L-BFGS in torch.

Hand-rolled so the dense embedding block stays a dense BLAS matmul and the tf-idf block a torch
CSR matmul: scikit-learn needs one stacked sparse matrix, which made each iteration several times
slower on BANKING77. The optimiser is torch's L-BFGS in float32 rather than SciPy's L-BFGS-B:
with 150 intents and about 50,000 n-grams the model has 7.5 million weights, and SciPy's float64
bookkeeping over them (bounds, history, copies) took three times as long as the gradients.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

HISTORY = 10  # L-BFGS correction pairs, as SciPy's default


def fit_softmax_regression(sparse: sp.csr_matrix | None, dense: np.ndarray, y: np.ndarray, n_classes: int,
                            c: float, max_iter: int) -> dict[str, np.ndarray]:
    """Weights and bias for ``n_classes`` with L2 penalty ||W||^2 / 2C (as scikit-learn's ``C``)."""
    n, d_dense = dense.shape
    features = torch.from_numpy(np.ascontiguousarray(dense, dtype=np.float32))
    rows = None if sparse is None else _torch_csr(sparse)
    columns = None if sparse is None else _torch_csr(sparse.T.tocsr())
    targets = torch.from_numpy(np.asarray(y, dtype=np.int64))
    ws = torch.zeros(0 if sparse is None else sparse.shape[1], n_classes, requires_grad=True)
    wd = torch.zeros(d_dense, n_classes, requires_grad=True)
    bias = torch.zeros(n_classes, requires_grad=True)
    penalty = 1.0 / (c * n)

    def objective() -> torch.Tensor:
        """The penalised mean cross-entropy, with its gradient written by hand (no autograd graph)."""
        with torch.no_grad():
            logits = torch.addmm(bias, features, wd)
            if rows is not None:
                logits += rows @ ws
            logp = torch.log_softmax(logits, dim=1)
            loss = -logp.gather(1, targets[:, None]).mean() + ((ws * ws).sum() + (wd * wd).sum()) * penalty / 2
            residual = logp.exp_()
            residual[torch.arange(n), targets] -= 1.0
            residual /= n
            wd.grad = torch.addmm(wd, features.T, residual, beta=penalty)
            ws.grad = ws * penalty if columns is None else torch.addmm(ws, columns, residual, beta=penalty)
            bias.grad = residual.sum(0)
        return loss

    optimizer = torch.optim.LBFGS([ws, wd, bias], lr=1.0, max_iter=max_iter, history_size=HISTORY,
                                  line_search_fn="strong_wolfe")
    optimizer.step(objective)
    return {"sparse": ws.detach().numpy(), "dense": wd.detach().numpy(), "bias": bias.detach().numpy()}


def _torch_csr(matrix: sp.csr_matrix) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch flags sparse CSR as beta
        return torch.sparse_csr_tensor(torch.from_numpy(matrix.indptr.astype(np.int64)),
                                       torch.from_numpy(matrix.indices.astype(np.int64)),
                                       torch.from_numpy(matrix.data.astype(np.float32)), matrix.shape)
