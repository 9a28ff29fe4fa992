"""Balanced assignment of wording clusters to declared descriptors (entropic optimal transport).

With one short example line per descriptor, a few "hub" descriptors resemble
most paraphrases a little more than the others do, so plain nearest-descriptor
assignment gives them nearly everything. Here each wording cluster (its phrase
count is its mass) is transported to the descriptors, whose capacities are a
soft prior that the declared benefits are pitched about equally often: the
Sinkhorn iterations of unbalanced optimal transport (Chizat et al. 2018), exact
on the rows (every cluster is assigned) and KL-relaxed on the columns with
strength RHO, so a descriptor can take more than its share when its
similarities clearly say so. TAU is the entropic temperature, in cosine units.
A cluster takes the descriptor that receives most of its mass.
"""

from __future__ import annotations

import numpy as np

TAU = 0.05  # cosine differences smaller than this count as uncertain
RHO = 0.3  # how firmly the equal-share prior holds (larger: firmer)
ITERATIONS = 300


def balanced_assignment(similarity: np.ndarray, mass: np.ndarray, capacity: np.ndarray, *,
                        tau: float = TAU, rho: float = RHO, iterations: int = ITERATIONS) -> np.ndarray:
    """For each row (cluster) of `similarity` (rows x descriptors), the column it is transported to.

    `mass` is each row's weight (its phrases), `capacity` each column's prior share (any scale;
    normalised to the total mass). Rows with zero mass still get their best column under the
    transport's column scaling.
    """
    s = np.asarray(similarity, dtype=np.float64)
    if s.size == 0:
        return np.zeros(len(s), dtype=int)
    r = np.asarray(mass, dtype=np.float64)
    r = r / r.sum() if r.sum() > 0 else np.full(len(s), 1 / len(s))
    c = np.maximum(np.asarray(capacity, dtype=np.float64), 1e-9)
    c = c / c.sum()
    k = np.exp((s - s.max(axis=1, keepdims=True)) / tau)  # row-wise shift: leaves the plan's argmax unchanged
    v = np.ones(s.shape[1])
    power = rho / (rho + tau)
    for _ in range(iterations):
        u = r / np.maximum(k @ v, 1e-300)
        v = (c / np.maximum(k.T @ u, 1e-300)) ** power
    return (k * v[None, :]).argmax(axis=1)
