"""The four instant-ngp applications (NeRF, NSDF, GIA, NVR) as per-frame workloads, the fully fused MLP op, and
deterministic sample positions.

A :class:`NgpFrame` is one rendered frame of an application at an output resolution: ``pixels x
samples_per_ray`` queries (GIA: one 2-D query per pixel), each going through the input encoding
(:class:`~archsim.workloads.hashgrid.GridEncode`) and the app's fully fused MLPs (:class:`FusedMlp`), then the
app's "rest of kernels" (ray marching, compositing, shading) on the GPU (:class:`NgpRest`). Positions are made
per batch on demand (:meth:`NgpFrame.points`), so a 8K frame never sits in memory.

Sample positions: a pinhole camera (seeded position on a sphere around the scene, looking at its centre) shoots
one ray per pixel through the unit cube; each ray is marched at ``march_steps`` uniform steps through the cube
and keeps the first ``samples_per_ray`` steps that fall in occupied cells of a seeded occupancy grid (a fraction
``occupancy`` of ``occupancy_res^3`` cells, spatially smooth); a ray with fewer occupied steps fills up with
its remaining steps in order. Every ray so contributes exactly ``samples_per_ray`` samples (instant-ngp's
compacted sample count after occupancy culling), and the occupancy decides where they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from archsim.base.errors import WorkloadError
from archsim.workloads.graph import OpGraph
from archsim.workloads.hashgrid import GridConfig, GridEncode
from archsim.workloads.op_base import Op, register_op

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160), "8k": (7680, 4320)}
ENCODINGS = ("hashgrid", "densegrid", "lowres")
APPS = ("nerf", "nsdf", "gia", "nvr")


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class FusedMlp(Op):
    """tiny-cuda-nn's ``FullyFusedMLP``: ``n_in -> width (x hidden) -> n_out``, fp16 weights and activations,
    fp32 accumulation; ReLU on hidden layers, ``output_activation`` ('none' or 'relu') on the last.
    Reference inputs: x (rows, n_in) fp16, then one (fan_in, fan_out) fp16 weight matrix per layer."""

    kind: ClassVar[str] = "fused_mlp"
    rows: int
    n_in: int
    width: int = 64
    hidden: int = 2
    n_out: int = 16
    output_activation: str = "none"

    def __post_init__(self):
        self._require_positive("rows", "n_in", "width", "hidden", "n_out")
        if self.output_activation not in ("none", "relu"):
            raise WorkloadError(f"op {self.name!r}: output_activation = {self.output_activation!r}; "
                                "expected 'none' or 'relu'")

    def layer_shapes(self) -> list[tuple[int, int]]:
        """(fan_in, fan_out) of each weight matrix: ``hidden`` hidden layers means hidden + 1 matrices."""
        dims = [self.n_in] + [self.width] * self.hidden + [self.n_out]
        return list(zip(dims[:-1], dims[1:]))

    def macs_per_row(self) -> int:
        return sum(a * b for a, b in self.layer_shapes())

    def inputs(self):
        return (((self.rows, self.n_in), "fp16"),) + tuple(((a, b), "fp16") for a, b in self.layer_shapes())

    def output(self):
        return (self.rows, self.n_out), "fp16"

    def flops(self) -> int:
        return 2 * self.rows * self.macs_per_row()

    def reference(self, x, *weights):
        return mlp_reference(x, weights, self.output_activation)


def mlp_reference(x, weights, output_activation: str = "none") -> np.ndarray:
    """numpy: fp16 operands, fp32 accumulation, fp16 activations between layers."""
    h = np.asarray(x, dtype=np.float16)
    for i, w in enumerate(weights):
        y = h.astype(np.float32) @ np.asarray(w, dtype=np.float16).astype(np.float32)
        last = i == len(weights) - 1
        if not last or output_activation == "relu":
            y = np.maximum(y, np.float32(0))
        h = y.astype(np.float16)
    return h


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class NgpRest(Op):
    """The application's other kernels for ``samples`` samples (ray generation and marching, compositing,
    shading): what the GPU keeps. Its time is a measured share of the frame (the baseline's kernel split), so
    the op carries its counts only; the reference is the identity on the MLP outputs."""

    kind: ClassVar[str] = "ngp_rest"
    samples: int
    n_out: int = 16

    def inputs(self):
        return (((self.samples, self.n_out), "fp16"),)

    def output(self):
        return (self.samples, self.n_out), "fp16"

    def flops(self) -> int:
        return 0

    def reference(self, x):
        return np.asarray(x)


@dataclass(frozen=True)
class App:
    """One instant-ngp application: its networks and how many queries a pixel makes."""

    name: str
    dims: int
    mlps: tuple[tuple[str, int, int, int, str], ...]  # (name, n_in, hidden, n_out, output activation)
    samples_per_ray: int
    hash_grid: GridConfig


def encoding_grid(app: App, encoding: str) -> GridConfig:
    """The grid of ``encoding`` for ``app`` (reference/ngpc.md workload table)."""
    if encoding == "hashgrid":
        return app.hash_grid
    if encoding == "densegrid":  # 8 levels, N_min 16, b 1.405 (res 16 -> 173)
        return GridConfig(dims=app.dims, levels=8, features=2, base_resolution=16, per_level_scale=1.405,
                          grid_type="dense")
    if encoding == "lowres":     # TiledGrid, 2 levels x 8 features, 128^D
        return GridConfig(dims=app.dims, levels=2, features=8, base_resolution=128, per_level_scale=2.0,
                          grid_type="tiled")
    raise WorkloadError(f"encoding = {encoding!r}; expected one of: {', '.join(ENCODINGS)}")


_NERF_MLPS = (("density", 32, 1, 16, "none"), ("color", 32, 2, 16, "none"))
_MLP2 = (("mlp", 32, 2, 16, "none"),)
_APPS = {
    # NeRF: HashGrid L16 F2 T2^19 N_min 16 N_max 2048; ~6 effective samples per ray (reference/ngpc.md)
    "nerf": App("nerf", 3, _NERF_MLPS, 6, GridConfig.from_max_resolution(2048, log2_hashmap_size=19)),
    # NSDF, NVR: HashGrid 16/2/2^19/16, growth 1.5 [assumed]; 8 samples per ray [assumed]: sphere-tracing
    # steps (NSDF) and volume-marching steps (NVR) after culling, few enough that their RTX 3090 times at 4K
    # (ngpc.yaml's ns_per_sample) stay inside the paper's 1.51x-55.5x gap to 4K@60 FPS
    "nsdf": App("nsdf", 3, _MLP2, 8, GridConfig(per_level_scale=1.5, log2_hashmap_size=19)),
    "nvr": App("nvr", 3, (("mlp", 32, 2, 16, "relu"),), 8, GridConfig(per_level_scale=1.5, log2_hashmap_size=19)),
    # GIA: 2-D, T 2^24, one query per pixel
    "gia": App("gia", 2, _MLP2, 1, GridConfig(dims=2, per_level_scale=1.5, log2_hashmap_size=24)),
}


def get_app(name: str) -> App:
    try:
        return _APPS[name.lower()]
    except (KeyError, AttributeError):
        raise WorkloadError(f"unknown app {name!r}; expected one of: {', '.join(APPS)}") from None


def resolution(res) -> tuple[int, int]:
    """'1080p' / '4k' / '8k' / '720p' or a (width, height) pair."""
    if isinstance(res, str) and res.lower() in RESOLUTIONS:
        return RESOLUTIONS[res.lower()]
    if (isinstance(res, (tuple, list)) and len(res) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                  and v > 0 for v in res)):
        return int(res[0]), int(res[1])
    raise WorkloadError(f"resolution = {res!r}; expected one of {', '.join(RESOLUTIONS)} or (width, height)")


@dataclass
class NgpFrame:
    """One frame of ``app`` with ``encoding`` at ``resolution``; positions are generated per range of samples."""

    app: App
    encoding: str
    width: int
    height: int
    samples_per_ray: int
    occupancy: float = 0.3
    seed: int = 0
    march_steps: int = 128
    occupancy_res: int = 32
    grid: GridConfig = field(init=False)

    def __post_init__(self):
        self.grid = encoding_grid(self.app, self.encoding)
        if not 0.0 < self.occupancy <= 1.0:
            raise WorkloadError(f"occupancy = {self.occupancy!r}; expected a fraction in (0, 1]")
        if isinstance(self.samples_per_ray, bool) or not isinstance(self.samples_per_ray, int) \
                or not 1 <= self.samples_per_ray <= self.march_steps:
            raise WorkloadError(f"samples_per_ray = {self.samples_per_ray!r}; expected an integer in "
                                f"[1, {self.march_steps}]")
        if self.app.dims == 2 and self.samples_per_ray != 1:
            raise WorkloadError(f"{self.app.name} makes one 2-D query per pixel; expected samples_per_ray = 1")
        self._occ = _occupancy_grid(self.occupancy_res, self.occupancy, self.seed)
        rng = np.random.default_rng(self.seed + 1)
        theta, phi = rng.uniform(0.2, 1.3), rng.uniform(0, 2 * np.pi)
        self._eye = 0.5 + 1.6 * np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])

    @property
    def name(self) -> str:
        return f"{self.app.name}-{self.encoding}-{self.width}x{self.height}"

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def samples(self) -> int:
        return self.pixels * self.samples_per_ray

    def mlps(self, rows: int) -> list[FusedMlp]:
        return [FusedMlp(name=n, rows=rows, n_in=i, hidden=h, n_out=o, output_activation=a)
                for n, i, h, o, a in self.app.mlps]

    def macs_per_sample(self) -> int:
        return sum(m.macs_per_row() for m in self.mlps(1))

    def graph(self) -> OpGraph:
        """The frame as an op graph: encode -> MLPs -> rest (one op each, over all samples)."""
        g = OpGraph(self.name)
        n = self.samples
        g.add(GridEncode(name="encode", points=n, grid=self.grid), block="encoding")
        prev = "encode"
        for m in self.mlps(n):
            g.add(m, [prev], block="mlp")
            prev = m.name
        g.add(NgpRest(name="rest", samples=n), [prev], block="rest")
        return g

    # -- positions ------------------------------------------------------------------------------------------
    def points(self, start: int, stop: int) -> np.ndarray:
        """Positions of samples ``start:stop`` (sample order: pixel-major, ``samples_per_ray`` per pixel,
        pixels in scanline order), float64 in [0, 1]^D, deterministic."""
        if not 0 <= start <= stop <= self.samples:
            raise WorkloadError(f"sample range {start}:{stop}; expected within 0:{self.samples}")
        spr = self.samples_per_ray
        p0, p1 = start // spr, -(-stop // spr)
        pix = np.arange(p0, p1, dtype=np.int64)
        u = (pix % self.width + 0.5) / self.width
        v = (pix // self.width + 0.5) / self.height
        if self.app.dims == 2:
            pts = np.stack([u, v], axis=1)
        else:
            pts = self._ray_samples(u, v).reshape(-1, 3)
        return pts[start - p0 * spr: stop - p0 * spr]

    def _ray_samples(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        eye = self._eye
        fwd = (0.5 - eye) / np.linalg.norm(0.5 - eye)
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        tan = math.tan(math.radians(25.0))
        aspect = self.width / self.height
        d = (fwd[None, :] + ((2 * u - 1) * tan * aspect)[:, None] * right[None, :]
             + ((1 - 2 * v) * tan)[:, None] * up[None, :])
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):   # slab test against [0, 1]^3
            inv = 1.0 / d
            t0, t1 = (0.0 - eye) * inv, (1.0 - eye) * inv
        tmin = np.nanmax(np.minimum(t0, t1), axis=1)
        tmax = np.nanmin(np.maximum(t0, t1), axis=1)
        miss = tmax <= tmin
        tmin, tmax = np.where(miss, 0.0, tmin), np.where(miss, 1.0, tmax)
        k = self.march_steps
        t = tmin[:, None] + (tmax - tmin)[:, None] * ((np.arange(k) + 0.5) / k)[None, :]
        p = eye[None, None, :] + t[:, :, None] * d[:, None, :]
        p = np.where(miss[:, None, None], 0.5 + 0.0 * p, p)    # a ray missing the volume samples its centre
        p = np.clip(p, 0.0, 1.0)
        r = self.occupancy_res
        cell = np.minimum((p * r).astype(np.int64), r - 1)
        occ = self._occ[cell[..., 0], cell[..., 1], cell[..., 2]]
        order = np.argsort(~occ, axis=1, kind="stable")[:, :self.samples_per_ray]
        return np.take_along_axis(p, order[:, :, None], axis=1)


def _occupancy_grid(res: int, fraction: float, seed: int) -> np.ndarray:
    """A smooth seeded occupancy: a low-frequency random field thresholded at its ``fraction`` quantile."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(4, 4, 4))
    x = (np.arange(res) + 0.5) / res * 3.0
    i = np.minimum(x.astype(int), 2)
    f = x - i
    # trilinear upsampling of a 4^3 field to res^3
    w0, w1 = 1 - f, f
    field = np.zeros((res, res, res))
    for a, wa in ((0, w0), (1, w1)):
        for b, wb in ((0, w0), (1, w1)):
            for cc, wc in ((0, w0), (1, w1)):
                field += (wa[:, None, None] * wb[None, :, None] * wc[None, None, :]
                          * c[np.ix_(i + a, i + b, i + cc)])
    thr = np.quantile(field, 1 - fraction)
    return field >= thr


def frame(app: str, encoding: str = "hashgrid", res="1080p", *, samples_per_ray: int | None = None,
          occupancy: float = 0.3, seed: int = 0) -> NgpFrame:
    """One frame of ``app`` ('nerf', 'nsdf', 'gia', 'nvr') with ``encoding`` ('hashgrid', 'densegrid',
    'lowres') at ``res``; ``samples_per_ray`` defaults to the app's."""
    a = get_app(app)
    w, h = resolution(res)
    return NgpFrame(a, encoding, w, h, a.samples_per_ray if samples_per_ray is None else samples_per_ray,
                    occupancy=occupancy, seed=seed)
