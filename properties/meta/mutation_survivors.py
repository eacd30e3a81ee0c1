"""Why each mutant of ``reference/`` that the properties do not kill may survive.

Keyed by ``properties.meta.mutation_summary.change_key``: ``module.function: mutated
code``. Each value is a one-line argument: the mutant is *equivalent* (no input the
contract allows tells it apart from the reference, or only by rounding inside the
accuracy policy; or the mutated line is unreachable), or *not executable under mutmut*
(code that runs at import, before mutmut switches the mutant on). A mutant that a
missing property would catch is not argued here: the property is added instead. Error
messages are not argued away either: the contract records' error inputs pin what a
message reports (layout, numbers, the feature named), so their mutants are killed.
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
CPUS = (
    "equivalent values: the CPU count only sets the number of worker threads; the res"
    "ult has the same bits for any count (test_batchnorm_threads)"
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

BNBLOCK = (
    "equivalent under the accuracy policy: the block size only sets where a chunk's column"
    " sums are split into partial sums, a summation order within the (m - 1) u bound"
)
REDUCE0 = "equivalent: axis=0 is np.add.reduce's default"
ROWS = (
    "equivalent: without dy only row 0 of the chunk sums is written and read ([0] in bat"
    "chnorm_forward); extra zero rows are never read"
)
SCRATCH = (
    "equivalent: the scratch buffer is only used through its first block.stop - block.s"
    "tart rows; a larger one only costs memory"
)
POW2 = (
    "equivalent: any power of 2 (or 1) as the scale keeps b = sigma / scale exact and f"
    "ar from overflow, and eigenvalues scale back exactly (sigma = 0: any scale gives 0)"
)
ARGUMENTS: dict[str, str] = {
    'reference.batchnorm._available_cpus: if hasattr(None, "sched_getaffinity"):': CPUS,
    'reference.batchnorm._available_cpus: if hasattr(os, "XXsched_getaffinityXX"):': CPUS,
    'reference.batchnorm._available_cpus: if hasattr(os, "SCHED_GETAFFINITY"):': CPUS,
    "reference.batchnorm._available_cpus: return os.cpu_count() or 2": CPUS,
    "reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix=None)": POOLNAME,
    "reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=_WORKERS, )": POOLNAME,
    'reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="XXbatchnormXX")': POOLNAME,
    'reference.batchnorm._executor: _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="BATCHNORM")': POOLNAME,
    "reference.mahalanobis._as_square_matrix: if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[1] == 0:": SQUARE,
    "reference.mahalanobis._as_square_matrix: m = a.shape[1]": SQUARE,
    "reference.softmax_ce._softmax_rows: m = z.max(axis=+1, keepdims=True)  # NaN or +inf anywhere shows up here": AXIS1,
    "reference.softmax_ce._softmax_rows: out /= out.sum(axis=+1, keepdims=True)  # the sum is in [1, N]": AXIS1,
    "reference.softmax_ce._softmax_rows: return False": FLAG,
    "reference.softmax_ce.softmax: z2, out2 = rows.reshape(-2, n), out.reshape(-1, n)  # z2 copies only if axis != -1": RESHAPE,
    "reference.softmax_ce.softmax: z2, out2 = rows.reshape(-1, n), out.reshape(-2, n)  # z2 copies only if axis != -1": RESHAPE,
    "reference.softmax_ce.softmax: step = max(2, _BLOCK_ENTRIES // n)": BLOCK,
    "reference.softmax_ce.softmax: for start in range(0, z2.shape[0], ):": BLOCK,
    "reference.softmax_ce.softmax_jacobian: S = softmax(z, )": DEFAULTAXIS,
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
    "reference.conv._with: out = None": IMPORT,
    "reference.conv._with: out.flat[0] = None": IMPORT,
    "reference.conv._with: out.flat[1] = value": IMPORT,
    "reference.mahalanobis._psd_eigh: d = np.where(d >= m * EPS * norm, d, 0.0)": TIE,
    "reference.mahalanobis.moment_matching_points: m = U.shape[1]": SQUARE,
    "reference.mahalanobis.symmetric_moment_matching_points: m = U.shape[1]": SQUARE,
    'reference.conv.conv2d: with np.errstate(over=None, invalid="ignore"):  # overflow is reported below': ERRSTATE,
    'reference.conv.conv2d: with np.errstate(over="ignore", invalid=None):  # overflow is reported below': ERRSTATE,
    'reference.conv.conv2d: with np.errstate(invalid="ignore"):  # overflow is reported below': ERRSTATE,
    'reference.conv.conv2d: with np.errstate(over="ignore", ):  # overflow is reported below': ERRSTATE,
    "reference.batchnorm._blocks: step = max(2, _BLOCK_BYTES // (8 * d))": BNBLOCK,
    "reference.batchnorm._blocks: step = max(1, _BLOCK_BYTES // (9 * d))": BNBLOCK,
    "reference.batchnorm._mean: sums = _add_in_order(_map_chunks(lambda rows: np.add.reduce(x[rows], ), _chunks(m, d)))": REDUCE0,
    "reference.batchnorm._centred_sums: sums = np.zeros((1 if (dy is None) and False else 3, d))": ROWS,
    "reference.batchnorm._centred_sums: sums = np.zeros((2 if dy is None else 3, d))": ROWS,
    "reference.batchnorm._centred_sums: scratch = np.empty((blocks[0].stop + blocks[0].start, d))": SCRATCH,
    'reference.batchnorm._centred_sums: sums[0] += np.einsum("IJ,IJ->J", centred, centred)': EINSUM,
    'reference.batchnorm._centred_sums: sums[1] += np.einsum("IJ,IJ->J", dy[block], centred)': EINSUM,
    "reference.batchnorm._centred_sums: sums[2] += np.add.reduce(dy[block], )": REDUCE0,
    "reference.mahalanobis._as_real_array: return raw.astype(None)": ASTYPE,
    "reference.mahalanobis._as_square_matrix: scale = float(np.ldexp(1.0, np.frexp(top)[1] - 1)) if (top > 0) or True else 1.0": POW2,
    "reference.mahalanobis._as_square_matrix: scale = float(np.ldexp(1.0, np.frexp(top)[1] - 2)) if top > 0 else 1.0": POW2,
    "reference.mahalanobis._as_square_matrix: scale = float(np.ldexp(1.0, np.frexp(top)[1] - 1)) if top >= 0 else 1.0": POW2,
    "reference.mahalanobis._as_square_matrix: scale = float(np.ldexp(1.0, np.frexp(top)[1] - 1)) if top > 1 else 1.0": POW2,
    "reference.mahalanobis._as_square_matrix: scale = float(np.ldexp(1.0, np.frexp(top)[1] - 1)) if top > 0 else 2.0": POW2,
    "reference.mahalanobis._psd_eigh: m = b.shape[1]": SQUARE,
    "reference.mahalanobis.min_trace_frame: m = b.shape[1]": SQUARE,
    "reference.mahalanobis.moment_matching_points: return centre - np.sqrt(n) * (H @ factor.T)": REFLECT,
    "reference.mahalanobis.symmetric_moment_matching_points: return centre - np.concatenate([half, -half])": REFLECT,
}
