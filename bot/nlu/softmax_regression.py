"""Multinomial logistic regression on a sparse and a dense feature block, fitted by L-BFGS.

Hand-rolled so the dense embedding block stays a dense BLAS matmul and the
tf-idf block a torch CSR matmul: scikit-learn needs one stacked sparse matrix,
which made each iteration several times slower on BANKING77.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from scipy.optimize import minimize
from scipy.special import log_softmax


def fit_softmax_regression(sparse: sp.csr_matrix | None, dense: np.ndarray, y: np.ndarray, n_classes: int,
                            c: float, max_iter: int) -> dict[str, np.ndarray]:
    """Weights and bias for ``n_classes`` with L2 penalty ||W||^2 / 2C (as scikit-learn's ``C``)."""
    n, d_dense = dense.shape
    d_sparse = 0 if sparse is None else sparse.shape[1]
    onehot = np.eye(n_classes, dtype=np.float32)[y]
    sparse_t = None if sparse is None else _torch_csr(sparse)
    sparse_tt = None if sparse is None else _torch_csr(sparse.T.tocsr())
    n_ws, n_wd = d_sparse * n_classes, d_dense * n_classes

    def unpack(w: np.ndarray):
        w = w.astype(np.float32)
        return (w[:n_ws].reshape(d_sparse, n_classes), w[n_ws:n_ws + n_wd].reshape(d_dense, n_classes),
                w[n_ws + n_wd:])

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        ws, wd, b = unpack(w)
        logits = dense @ wd + b
        if sparse_t is not None:
            logits += (sparse_t @ torch.from_numpy(ws)).numpy()
        logp = log_softmax(logits, axis=1)
        residual = (np.exp(logp) - onehot) / n
        loss = -(logp * onehot).sum() / n + ((ws * ws).sum() + (wd * wd).sum()) / (2 * c * n)
        grad_ws = np.zeros((0,), np.float32) if sparse_t is None else \
            ((sparse_tt @ torch.from_numpy(residual)).numpy() + ws / (c * n)).ravel()
        grad = np.concatenate([grad_ws, (dense.T @ residual + wd / (c * n)).ravel(), residual.sum(0)])
        return float(loss), grad.astype(np.float64)

    result = minimize(objective, np.zeros(n_ws + n_wd + n_classes), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter})
    ws, wd, b = unpack(result.x)
    return {"sparse": ws, "dense": wd, "bias": b}


def _torch_csr(matrix: sp.csr_matrix) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch flags sparse CSR as beta
        return torch.sparse_csr_tensor(torch.from_numpy(matrix.indptr.astype(np.int64)),
                                       torch.from_numpy(matrix.indices.astype(np.int64)),
                                       torch.from_numpy(matrix.data.astype(np.float32)), matrix.shape)
