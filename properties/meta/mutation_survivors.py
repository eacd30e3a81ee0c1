"""Why each mutant of ``reference/`` that the properties do not kill may survive.

Keyed by ``properties.meta.mutation_summary.change_key``: ``module.function: mutated
code``. Each value is a one-line argument: the mutant is *equivalent* (no input the
contract allows tells it apart from the reference, or only by rounding inside the
accuracy policy), *outside the contract* (a detail of an error message after the
argument it names), or *not executable under mutmut* (code that runs at import or in a
forked child, before mutmut switches the mutant on). A mutant that a missing property
would catch is not argued here: the property is added instead.
"""

from __future__ import annotations

ERRSTATE = (
    "equivalent values: over=None leaves NumPy's default, which only adds an overflow"
    " RuntimeWarning (test_reference_details checks softmax's silence)"
)
AXIS1 = "equivalent: the block is 2-D here, so axis=+1 is axis=-1"
RESHAPE = "equivalent: NumPy reads any negative size in reshape as 'infer this one'"
BLOCK = (
    "equivalent: the block size only sets how many rows one pass handles; rows are in"
    "dependent, so no value changes"
)
DEFAULTAXIS = "equivalent: axis=-1 is softmax's default"
EINSUM = "equivalent: einsum subscripts are names; I and i name the same summed index"
FLAG = "equivalent: the flag only triggers a second finiteness check, which passes for finite z"
CGRAD = (
    "equivalent under the accuracy policy: c = sum y is 1 +- N EPS, so S/c and S*c di"
    "ffer by <= 2 N EPS |S|, inside the backward-stable bound"
)
POOLNAME = "equivalent: the threads' name prefix is cosmetic"
POOLSIZE = (
    "equivalent: _chunks fixes the split of the work; the pool's size only bounds how"
    " many chunks run at once (test_batchnorm_threads: same bits for any worker count)"
)
FORK = (
    "not executable under mutmut: runs only in a forked child (os.register_at_fork), "
    "before mutmut switches the mutant on; test_reference_details calls it directly"
)
CPUS = (
    "equivalent values: the CPU count only sets the number of worker threads; the res"
    "ult has the same bits for any count (test_batchnorm_threads)"
)
SHAPEDOC = (
    "outside the contract: the layout spelled in the error message is documentation; "
    "the contract fixes the argument named first"
)
DTYPE = (
    "equivalent: without dtype=float64 an int or float array still results and eigh/m"
    "atmul promote it to float64; a non-number still fails to convert"
)
SQUARE = "equivalent: once a.shape[0] != a.shape[1] is ruled out, a.shape[1] is a.shape[0]"
CENTRED = (
    "equivalent under the accuracy policy: dmu_second multiplies sum(x - mu), which i"
    "s 0 in exact arithmetic; its coefficient and sign only move rounding"
)
SUMS = (
    "equivalent inside the audit domain: row or total sums of dy overflow while its c"
    "olumn sums do not only for entries near 1e308"
)
ASTYPE = "equivalent: astype(None) is astype(float64)"
COPY = "equivalent: the converted array is only read, so whether it is a copy does not matter"
MSG = "outside the contract: a detail of an error message after the argument it names"
IMPORT = (
    "not executable under mutmut: runs at import (building CONTRACT), before mutmut s"
    "witches the mutant on; test_contract checks its results"
)
TIE = (
    "equivalent: differs only for an eigenvalue exactly equal to the rank threshold m"
    " EPS |sigma|, where keeping or zeroing it are both within the bound"
)
REFLECT = (
    "equivalent: the reflection x -> 2 centre - x keeps the mean and the covariance, "
    "so the reflected points match the moments too (the theorem's claim)"
)

ARGUMENTS: dict[str, str] = {
    'reference.batchnorm._available_cpus: if hasattr(None, "sched_getaffinity"):': CPUS,
    "reference.batchnorm._available_cpus: if hasattr(os, None):": CPUS,
    'reference.batchnorm._available_cpus: if hasattr("sched_getaffinity"):': CPUS,
    "reference.batchnorm._available_cpus: if hasattr(os, ):": CPUS,
    'reference.batchnorm._available_cpus: if hasattr(os, "XXsched_getaffinityXX"):': CPUS,
    'reference.batchnorm._available_cpus: if hasattr(os, "SCHED_GETAFFINITY"):': CPUS,
    "reference.batchnorm._available_cpus: return os.cpu_count() and 1": CPUS,
    "reference.batchnorm._available_cpus: return os.cpu_count() or 2": CPUS,
    'reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=None, thread_name_prefix="batchnorm")': POOLSIZE,
    "reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix=None)": POOLNAME,
    'reference.batchnorm._executor: _pool = ThreadPoolExecutor(thread_name_prefix="batchnorm")': POOLSIZE,
    "reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=_WORKERS, )": POOLNAME,
    'reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="XXbatchnormXX")': POOLNAME,
    'reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="BATCHNORM")': POOLNAME,
    'reference.batchnorm._forget_pool_after_fork: _pool = ""': FORK,
    "reference.batchnorm._forget_pool_after_fork: _pool_lock = None": FORK,
    'reference.conv.conv2d: x = _finite_array("x", x, 4, None)': SHAPEDOC,
    'reference.conv.conv2d: x = _finite_array("x", x, 4, "XX(B, W, H, C_in)XX")': SHAPEDOC,
    'reference.conv.conv2d: x = _finite_array("x", x, 4, "(b, w, h, c_in)")': SHAPEDOC,
    'reference.conv.conv2d: x = _finite_array("x", x, 4, "(B, W, H, C_IN)")': SHAPEDOC,
    'reference.conv.conv2d: w = _finite_array("w", w, 4, None)': SHAPEDOC,
    'reference.conv.conv2d: w = _finite_array("w", w, 4, "XX(k1, k2, C_in, C_out)XX")': SHAPEDOC,
    'reference.conv.conv2d: w = _finite_array("w", w, 4, "(k1, k2, c_in, c_out)")': SHAPEDOC,
    'reference.conv.conv2d: w = _finite_array("w", w, 4, "(K1, K2, C_IN, C_OUT)")': SHAPEDOC,
    'reference.conv.conv2d: b = _finite_array("b", b, 1, None)': SHAPEDOC,
    'reference.conv.conv2d: b = _finite_array("b", b, 1, "XX(C_out,)XX")': SHAPEDOC,
    "reference.mahalanobis._as_square_matrix: a = np.asarray(sigma, dtype=None)": DTYPE,
    "reference.mahalanobis._as_square_matrix: a = np.asarray(sigma, )": DTYPE,
    "reference.mahalanobis._as_square_matrix: if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[1] == 0:": SQUARE,
    "reference.mahalanobis._as_square_matrix: m = a.shape[1]": SQUARE,
    "reference.mahalanobis._psd_eigh: m = a.shape[1]": SQUARE,
    "reference.mahalanobis._as_mean: v = np.asarray(mu, dtype=None)": DTYPE,
    "reference.mahalanobis._as_mean: v = np.asarray(mu, )": DTYPE,
    "reference.mahalanobis.min_trace_frame: m = a.shape[1]": SQUARE,
    "reference.softmax_ce._softmax_rows: m = z.max(axis=+1, keepdims=True)  # NaN or +inf anywhere shows up here": AXIS1,
    "reference.softmax_ce._softmax_rows: with np.errstate(over=None):  # z - m < -1.8e308 rounds to -inf, exp gives 0: exact": ERRSTATE,
    "reference.softmax_ce._softmax_rows: out /= out.sum(axis=+1, keepdims=True)  # the sum is in [1, N]": AXIS1,
    "reference.softmax_ce._softmax_rows: return False": FLAG,
    "reference.softmax_ce.softmax: z2, out2 = rows.reshape(-2, n), out.reshape(-1, n)  # z2 copies only if axis != -1": RESHAPE,
    "reference.softmax_ce.softmax: z2, out2 = rows.reshape(-1, n), out.reshape(-2, n)  # z2 copies only if axis != -1": RESHAPE,
    "reference.softmax_ce.softmax: step = max(2, _BLOCK_ENTRIES // n)": BLOCK,
    "reference.softmax_ce.softmax: for start in range(0, z2.shape[0], ):": BLOCK,
    "reference.softmax_ce.softmax_jacobian: S = softmax(z, )": DEFAULTAXIS,
    "reference.softmax_ce.cross_entropy: with np.errstate(over=None):  # -2 * half_d below -1.8e308 -> -inf, exp -> 0: exact": ERRSTATE,
    'reference.softmax_ce.cross_entropy: return 2.0 * np.einsum("...I,...I->...", y, half_d) + c * np.log(s)': EINSUM,
    "reference.softmax_ce.cross_entropy_grad: S = softmax(z, )": DEFAULTAXIS,
    "reference.softmax_ce.cross_entropy_grad: S /= y.sum(axis=-1, keepdims=True)": CGRAD,
    'reference.batchnorm._statistics: var = np.einsum("IJ,IJ->J", centred, centred) / x.shape[0]': EINSUM,
    "reference.batchnorm.batchnorm_key_terms: dmu_second = dvar * (+2.0 / m) * centred.sum(axis=0)": CENTRED,
    "reference.batchnorm.batchnorm_key_terms: dmu_second = dvar * (-3.0 / m) * centred.sum(axis=0)": CENTRED,
    "reference.batchnorm.batchnorm_key_terms: dmu = dmu_direct - dmu_second": CENTRED,
    'reference.batchnorm.batchnorm_key_terms: _check_finite(dy.sum(axis=None), dy, "dy")': SUMS,
    'reference.batchnorm.batchnorm_key_terms: _check_finite(dy.sum(axis=1), dy, "dy")': SUMS,
    "reference.conv._finite_array: array = array.astype(None, copy=False)": ASTYPE,
    "reference.conv._finite_array: array = array.astype(np.float64, copy=None)": COPY,
    "reference.conv._finite_array: array = array.astype(np.float64, )": COPY,
    "reference.conv._finite_array: array = array.astype(np.float64, copy=True)": COPY,
    'reference.conv.conv2d: f"w: has {w.shape[3]} input channels (axis 2) but x has {x.shape[3]} (axis 3)"': MSG,
    "reference.conv._with: out = None": IMPORT,
    "reference.conv._with: out.flat[0] = None": IMPORT,
    "reference.conv._with: out.flat[1] = value": IMPORT,
    'reference.mahalanobis._check_psd: f"< -{PSD_FACTOR:g} * m * eps * |sigma| = {+allowed:.3e}"': MSG,
    "reference.mahalanobis._psd_eigh: d = np.where(d >= m * EPS * norm, d, 0.0)": TIE,
    "reference.mahalanobis.moment_matching_points: m = U.shape[1]": SQUARE,
    "reference.mahalanobis.symmetric_moment_matching_points: m = U.shape[1]": SQUARE,
    "reference.mahalanobis.moment_matching_points: return centre - np.sqrt(n) * (H @ factor.T)": REFLECT,
    "reference.mahalanobis.symmetric_moment_matching_points: return centre - np.concatenate([half, -half])": REFLECT,
    'reference.mahalanobis.min_trace_frame: raise ValueError(f"k: expected an integer, got {type(None).__name__}")': MSG,
    "reference.__getattr__: raise AttributeError(None)": MSG,
    'reference.conv.conv2d: b = _finite_array("b", b, 1, "(c_out,)")': SHAPEDOC,
    'reference.conv.conv2d: b = _finite_array("b", b, 1, "(C_OUT,)")': SHAPEDOC,
    'reference.conv.conv2d: with np.errstate(over=None, invalid="ignore"):  # overflow is reported below': ERRSTATE,
    'reference.conv.conv2d: with np.errstate(over="ignore", invalid=None):  # overflow is reported below': ERRSTATE,
    'reference.conv.conv2d: with np.errstate(invalid="ignore"):  # overflow is reported below': ERRSTATE,
    'reference.conv.conv2d: with np.errstate(over="ignore", ):  # overflow is reported below': ERRSTATE,
}
