"""The contract on PyTorch: ``pytest --impl-module properties.adapters.torch_adapter``.

Layouts. PyTorch convolves NCHW images with OIHW kernels; the contract sends
channels-last images ``(B, W, H, C)`` and kernels ``(k1, k2, C_in, C_out)``. So

* image: ``x.permute(0, 3, 1, 2)`` is ``(B, C, W, H)``: torch's first spatial axis is
  the contract's W, its second is H, so ``stride``, ``padding`` and ``dilation`` pass
  through unchanged, in the same order;
* kernel: ``w.permute(3, 2, 0, 1)`` is ``(C_out, C_in, k1, k2)`` (OIHW);
* output: ``y.permute(0, 2, 3, 1)`` takes ``(B, C_out, W', H')`` back to channels-last.

The permutations are views, and autograd runs through them: the gradients of the
contract-layout leaves come out in the contract's layout with no permuting back.
Batch norm on ``(m, d)`` is ``F.batch_norm``'s kernel in training mode (batch
statistics, biased variance): ``(N, C)`` is already its layout. Cross-entropy with probability
targets is ``F.cross_entropy(z, y)`` with classes on axis 1 of an ``(N, C)`` batch, so
the contract's ``(..., N)`` rows are flattened to ``(-1, N)`` and reshaped back.
Gradients are autograd's; the softmax Jacobian is ``torch.autograd.functional.jacobian``;
the PSD problems use ``torch.linalg.eigh``. Everything stays float64 (``from_numpy``
keeps the dtype).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the name torch's documentation uses)

Pair = tuple[int, int]

#: above this size, ``conv2d_output_shape`` uses the formula instead of asking torch:
#: torch sizes are int64, and a meta tensor of W * H elements must count them in int64
META_LIMIT = 2**31


def _t(a, grad: bool = False) -> torch.Tensor:
    """A float64 tensor on the array's memory (the suite passes copies)."""
    return torch.from_numpy(np.asarray(a, dtype=np.float64)).requires_grad_(grad)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


# --- Conv2D ------------------------------------------------------------------------


def _nchw_conv(x, w, b, stride, padding, dilation) -> torch.Tensor:
    """``F.conv2d`` on contract-layout tensors, returning a contract-layout tensor.

    The kernel is made contiguous after the permutation: with a permuted (strided) OIHW
    view, autograd's CPU ``slow_conv2d`` backward raises ``RuntimeError: slow_conv2d:
    grad_weight must be contiguous`` (x of shape (1, 2, 1, 2), a 2 x 1 kernel, C_out = 1),
    a finding recorded in ``meta/test_adapters.py``; a copy sidesteps it.
    """
    y = F.conv2d(
        x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1).contiguous(), b, stride, padding, dilation
    )  # (B, C_out, W', H')
    return y.permute(0, 2, 3, 1)


def conv2d_output_shape(input_shape, out_channels, kernel_size, stride=(1, 1), padding=(0, 0),
                        dilation=(1, 1)) -> tuple[int, int, int, int]:  # fmt: skip
    """Torch's own shape logic, on ``device='meta'`` tensors (shapes only, no data).

    One image, one channel in and out (B and C_out do not enter W', H'). Sizes of
    ``META_LIMIT`` or more do not fit torch's int64 shapes: for those, the documented
    formula ``floor((n + 2p - d (k - 1) - 1) / s) + 1`` in Python ints. Torch's
    RuntimeError on an empty output becomes the contract's ValueError.
    """
    B, W, H, _ = input_shape
    geometry = (W, H, *kernel_size, *stride, *padding, *dilation)
    if max(geometry) >= META_LIMIT:
        sizes = [
            (n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, k, s, p, d in zip((W, H), kernel_size, stride, padding, dilation, strict=True)
        ]
        if min(sizes) < 1:
            raise ValueError(f"kernel_size: the dilated kernel does not fit; output {sizes}")
        return (B, sizes[0], sizes[1], out_channels)
    image = torch.empty(1, 1, W, H, device="meta")
    kernel = torch.empty(1, 1, *kernel_size, device="meta")
    try:
        _, _, W_out, H_out = F.conv2d(image, kernel, None, stride, padding, dilation).shape
    except RuntimeError as error:  # "Calculated output size ... is too small"
        raise ValueError(f"kernel_size: {error}") from None
    return (B, W_out, H_out, out_channels)


def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)) -> np.ndarray:
    """``F.conv2d`` with the layouts permuted in and out."""
    bias = None if b is None else _t(b)
    return _np(_nchw_conv(_t(x), _t(w), bias, stride, padding, dilation))


def conv2d_backward(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Autograd of ``sum(dy * conv2d(x, w, b))`` for ``x``, ``w`` and a zero bias."""
    xt, wt, bt = _t(x, True), _t(w, True), torch.zeros(w.shape[3], dtype=torch.float64)
    bt.requires_grad_(True)
    y = _nchw_conv(xt, wt, bt, stride, padding, dilation)
    return tuple(_np(g) for g in torch.autograd.grad(y, (xt, wt, bt), _t(dy)))


# --- Batch norm --------------------------------------------------------------------


def _batch_norm(x, gamma, beta, eps) -> torch.Tensor:
    """The kernel of ``F.batch_norm`` in training mode, without its guard against m = 1.

    ``F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)`` first calls
    ``_verify_batch_size`` and raises ``ValueError: Expected more than 1 value per
    channel when training`` for a batch of one example, a valid input of the contract
    (the theorem gives y = beta, dx = 0 there). That guard is a finding (README,
    ``meta/test_adapters.py``); calling the ``torch.batch_norm`` it then dispatches to,
    with the same arguments, audits the numbers on every m >= 1.
    """
    return torch.batch_norm(x, gamma, beta, None, None, True, 0.0, eps, False)


def batchnorm_forward(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """Batch norm in training mode (batch statistics), no running statistics."""
    return _np(_batch_norm(_t(x), _t(gamma), _t(beta), eps))


def batchnorm_backward(dy, x, gamma, eps=1e-5):
    """Autograd of ``sum(dy * batchnorm_forward(x, gamma, beta))``."""
    xt, gt, bt = _t(x, True), _t(gamma, True), torch.zeros(x.shape[1], dtype=torch.float64)
    bt.requires_grad_(True)
    y = _batch_norm(xt, gt, bt, eps)
    return tuple(_np(g) for g in torch.autograd.grad(y, (xt, gt, bt), _t(dy)))


# --- Softmax and cross-entropy -----------------------------------------------------


def softmax(z, axis=-1) -> np.ndarray:
    """``torch.softmax``."""
    return _np(torch.softmax(_t(z), dim=axis))


def softmax_jacobian(z) -> np.ndarray:
    """``torch.autograd.functional.jacobian`` of the softmax, one block per row.

    Rows do not interact, so the Jacobian of ``softmax(z).sum(rows)`` with respect to
    the ``(R, N)`` rows is ``J[i, r, j] = dS[r, i] / dz[r, j]``: every row's block in
    one call, without the ``(R, N, R, N)`` zeros of the full Jacobian.
    """
    rows = _t(z).reshape(-1, z.shape[-1])
    J = torch.autograd.functional.jacobian(lambda r: torch.softmax(r, -1).sum(0), rows)
    return _np(J.permute(1, 0, 2)).reshape(*z.shape, z.shape[-1])


def _cross_entropy(y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``F.cross_entropy`` with probability targets on ``(..., N)`` rows, one loss per row."""
    N = z.shape[-1]
    return F.cross_entropy(z.reshape(-1, N), y.reshape(-1, N), reduction="none").reshape(
        z.shape[:-1]
    )


def cross_entropy(y, z) -> np.ndarray:
    """``F.cross_entropy(z, y, reduction='none')`` with ``y`` as probabilities."""
    return _np(_cross_entropy(_t(y), _t(z)))


def cross_entropy_grad(y, z) -> np.ndarray:
    """Autograd of the summed losses with respect to ``z`` (rows are independent)."""
    zt = _t(z, True)
    (grad,) = torch.autograd.grad(_cross_entropy(_t(y), zt).sum(), zt)
    return _np(grad)


# --- PSD problems (torch.linalg.eigh) ----------------------------------------------


def moment_matching_points(mu, sigma) -> np.ndarray:
    """The 2m points ``mu ± sqrt(m d_i) u_i`` (eigenvalues clamped at 0)."""
    d, U = torch.linalg.eigh(_t(sigma))
    half = (U * torch.sqrt(sigma.shape[0] * d.clamp(min=0.0))).T
    return _np(_t(mu) + torch.cat([half, -half]))


def min_trace_frame(sigma, k) -> np.ndarray:
    """Eigenvectors of the k smallest eigenvalues (``eigh`` sorts them ascending)."""
    return _np(torch.linalg.eigh(_t(sigma)).eigenvectors[:, :k])
