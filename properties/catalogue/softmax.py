"""Wrong implementations of softmax, its Jacobian and the cross-entropy (Problem 3).

Each is a mistake found in homework, tutorials or framework issues; each must be rejected
by some property of ``test_softmax.py`` / ``test_cross_entropy.py`` with logits inside
the contract (|z| <= 1e4) and labels on the simplex.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from properties.catalogue import Peer, WrongImplementation
from properties.tolerance.common import FLUSH_FLOOR
from reference.softmax_ce import cross_entropy_grad, softmax


def _stable_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- softmax ---------------------------------------------------------------------------


def no_max_subtraction(z, axis=-1):
    """The textbook formula as written: exp(800) = inf, inf / inf = NaN."""
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def wrong_axis(z, axis=-1):
    """Normalises over axis 0 (the batch) whatever ``axis`` says."""
    return _stable_softmax(z, axis=0)


def global_max_subtraction(z, axis=-1):
    """Subtracts the max of the whole batch: a row far below it underflows to 0 / 0."""
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def max_subtracted_over_wrong_axis(z, axis=-1):
    """Stable in 1-D, but in a batch subtracts each column's max, not each row's."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def temperature_two(z, axis=-1):
    """exp(2 z) normalised: obeys every law (shift, order, simplex) but is not softmax."""
    return _stable_softmax(2.0 * z, axis=axis)


# --- Jacobian ---------------------------------------------------------------------------


def jacobian_missing_diagonal(z):
    """-S S^T: the delta_ij S_i term forgotten."""
    S = _stable_softmax(z)
    return -S[..., :, None] * S[..., None, :]


def jacobian_missing_outer(z):
    """diag(S): the -S_i S_j term forgotten (the derivative of the numerator only)."""
    S = _stable_softmax(z)
    return S[..., :, None] * np.eye(z.shape[-1])


def jacobian_diagonal_squared(z):
    """The diagonal written S_i^2 instead of S_i - S_i^2 (delta_ij S_i dropped, sign flipped)."""
    S = _stable_softmax(z)
    J = -S[..., :, None] * S[..., None, :]
    idx = np.arange(z.shape[-1])
    J[..., idx, idx] = S**2
    return J


# --- cross-entropy -------------------------------------------------------------------


def naive_log_softmax_loss(y, z):
    """-sum y log(softmax(z)): log(0) = -inf where a probability underflows, 0 * -inf = NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(y * np.log(_stable_softmax(z))).sum(axis=-1)


def loss_batch_mean(y, z):
    """Returns the batch mean, as framework losses do by default, not one loss per row."""
    log_s = z - z.max(-1, keepdims=True)
    log_s = log_s - np.log(np.exp(log_s).sum(-1, keepdims=True))
    return np.mean(-(y * log_s).sum(-1))


def loss_log2(y, z):
    """Cross-entropy in bits (log base 2): a different loss, with a different gradient."""
    log_s = z - z.max(-1, keepdims=True)
    log_s = log_s - np.log(np.exp(log_s).sum(-1, keepdims=True))
    return -(y * log_s).sum(-1) / np.log(2.0)


# --- cross-entropy gradient ------------------------------------------------------------


def gradient_wrong_sign(y, z):
    """Returns y - yhat, the gradient of -L (the ascent direction)."""
    return y - _stable_softmax(z)


def gradient_one_hot_only(y, z):
    """Returns yhat - onehot(argmax y): right for one-hot labels, wrong for soft ones."""
    onehot = np.eye(z.shape[-1])[np.argmax(y, axis=-1)]
    return _stable_softmax(z) - onehot


def gradient_without_softmax(y, z):
    """Returns z - y, the gradient of the squared error |z - y|^2 / 2, not of the CE."""
    return z - y


def float32_softmax(z, axis=-1):
    """The exponentials in float32 (a mixed-precision kernel): 1e-7 relative errors."""
    e = np.exp((z - z.max(axis=axis, keepdims=True)).astype(np.float32))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float64)


def central_difference_jacobian(z):
    """J column by column from central differences of softmax, h = 1e-5: ~1e-11 errors."""
    h = 1e-5
    n = z.shape[-1]
    columns = [
        (_stable_softmax(z + h * e) - _stable_softmax(z - h * e)) / (2 * h) for e in np.eye(n)
    ]
    return np.stack(columns, axis=-1)


def loss_probability_clipped(y, z):
    """-sum y log(max(S, 1e-300)): the clip hides log(0) but caps the loss at 690.8."""
    return -(y * np.log(np.maximum(_stable_softmax(z), 1e-300))).sum(axis=-1)


def loss_sign_flipped(y, z):
    """Returns sum y log S: the minus sign forgotten (a concave, non-positive 'loss')."""
    log_s = z - z.max(-1, keepdims=True)
    return (y * (log_s - np.log(np.exp(log_s).sum(-1, keepdims=True)))).sum(-1)


def central_difference_gradient(y, z):
    """dL/dz from central differences of the loss, h = 1e-6: ~1e-10 errors."""
    h = 1e-6

    def loss(x):
        log_s = x - x.max(-1, keepdims=True)
        return -(y * (log_s - np.log(np.exp(log_s).sum(-1, keepdims=True)))).sum(-1)

    columns = [(loss(z + h * e) - loss(z - h * e)) / (2 * h) for e in np.eye(z.shape[-1])]
    return np.stack(columns, axis=-1)


def float32_gradient(y, z):
    """S - y with S computed in float32."""
    return float32_softmax(z) - y


CATALOGUE: list[WrongImplementation] = [
    WrongImplementation("softmax", no_max_subtraction, "no max subtraction: exp overflows"),
    WrongImplementation("softmax", wrong_axis, "normalises over the batch axis"),
    WrongImplementation("softmax", global_max_subtraction, "one max for the whole batch"),
    WrongImplementation("softmax", max_subtracted_over_wrong_axis, "max over the wrong axis"),
    WrongImplementation("softmax", temperature_two, "exp(2z): a softmax at temperature 1/2"),
    WrongImplementation("softmax_jacobian", jacobian_missing_diagonal, "missing S_i delta_ij"),
    WrongImplementation("softmax_jacobian", jacobian_missing_outer, "missing -S_i S_j"),
    WrongImplementation("softmax_jacobian", jacobian_diagonal_squared, "diagonal S_i^2"),
    WrongImplementation("cross_entropy", naive_log_softmax_loss, "log(softmax) underflows"),
    WrongImplementation("cross_entropy", loss_batch_mean, "batch mean, not per-row losses"),
    WrongImplementation("cross_entropy", loss_log2, "log base 2"),
    WrongImplementation("cross_entropy_grad", gradient_wrong_sign, "y - yhat: wrong sign"),
    WrongImplementation("cross_entropy_grad", gradient_one_hot_only, "right for one-hot y only"),
    WrongImplementation("cross_entropy_grad", gradient_without_softmax, "z - y: no softmax"),
    WrongImplementation("softmax", float32_softmax, "float32 intermediate"),
    WrongImplementation("softmax_jacobian", central_difference_jacobian, "central differences"),
    WrongImplementation("cross_entropy", loss_probability_clipped, "log(max(S, 1e-300))"),
    WrongImplementation("cross_entropy", loss_sign_flipped, "sum y log S: sign flipped"),
    WrongImplementation("cross_entropy_grad", central_difference_gradient, "central differences"),
    WrongImplementation("cross_entropy_grad", float32_gradient, "float32 softmax inside"),
]


# --- peers: correct by another algorithm ------------------------------------------------


def _logsumexp(z: np.ndarray, axis: int = -1) -> np.ndarray:
    m = z.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def logsumexp_softmax(z, axis=-1):
    """exp(z - lse(z)) with lse = max z + log sum exp(z - max z): the log-softmax route."""
    return np.exp(z - _logsumexp(z, axis))


def logsumexp_jacobian(z):
    """diag(S) - S S^T from the logsumexp softmax."""
    S = logsumexp_softmax(z)
    return S[..., :, None] * np.eye(z.shape[-1]) - S[..., :, None] * S[..., None, :]


def logsumexp_cross_entropy(y, z):
    """-sum y (z - lse(z)): nll(log_softmax(z)), as frameworks compute it."""
    return -(y * (z - _logsumexp(z))).sum(-1)


def logsumexp_cross_entropy_grad(y, z):
    """exp(z - lse(z)) - y: the assignment's formula through the log-softmax route."""
    return logsumexp_softmax(z) - y


def flush_to_zero_softmax(z, axis=-1):
    """The reference with every result below the smallest normal set to 0 (XLA on CPU)."""
    probabilities = softmax(z, axis)
    probabilities[probabilities < FLUSH_FLOOR] = 0.0
    return probabilities


def flush_to_zero_gradient(y, z):
    """The reference's gradient with subnormal results flushed to 0."""
    g = cross_entropy_grad(y, z)
    g[np.abs(g) < FLUSH_FLOOR] = 0.0
    return g


def scipy_softmax(z, axis=-1):
    """scipy.special.softmax."""
    return scipy.special.softmax(z, axis=axis)


PEERS: list[Peer] = [
    Peer("softmax", logsumexp_softmax, "exp(z - logsumexp(z)): errors ~ u ||z||"),
    Peer("softmax", flush_to_zero_softmax, "subnormal results flushed to zero"),
    Peer("softmax", scipy_softmax, "scipy.special.softmax"),
    Peer("softmax_jacobian", logsumexp_jacobian, "diag(S) - S S^T from a logsumexp S"),
    Peer("cross_entropy", logsumexp_cross_entropy, "nll(log_softmax(z)): errors ~ u ||z||"),
    Peer("cross_entropy_grad", logsumexp_cross_entropy_grad, "exp(z - lse(z)) - y"),
    Peer("cross_entropy_grad", flush_to_zero_gradient, "subnormal results flushed to zero"),
]
