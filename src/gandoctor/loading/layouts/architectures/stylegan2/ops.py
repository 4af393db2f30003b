"""The operations StyleGAN2 is built from, in plain PyTorch (CPU and CUDA, no custom ops).

Written from the StyleGAN2 paper (Karras et al. 2020, "Analyzing and Improving the Image
Quality of StyleGAN") and from what the reference implementations compute:

- **FIR resampling** (``upfirdn``): upsample by inserting zeros, pad (or crop, for negative
  padding), convolve with a 2-D low-pass filter, downsample by keeping every n-th sample.
  Upsampling by 2 multiplies the filter by 4, so that a constant image stays constant.
- **Modulated convolution** (section 2.2 of the paper): each input channel is scaled by a
  style, and with demodulation each output channel is divided by the norm of its
  effective weights. Computed by scaling the activations before and after one shared
  convolution, which equals convolving with the per-sample weights.
- **Bias and activation** (``bias_act``): add a per-channel bias, apply the activation, scale
  by its gain (sqrt 2 for ReLU-like ones, so the signal's magnitude is kept), clamp.
- **Equalised learning rate**: weights are stored unscaled and multiplied by
  1 / sqrt(fan_in) (times a learning-rate multiplier) when used.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.errors import CheckpointError

ACTIVATION_GAINS = {"linear": 1.0, "relu": math.sqrt(2), "lrelu": math.sqrt(2)}
"""The activations StyleGAN2 uses, with their default gains."""
LRELU_SLOPE = 0.2
CHANNELS_LAST = torch.channels_last
"""The memory layout gandoctor's own builds run their activations in: CPU convolutions
(oneDNN) run 2-3 times faster in it, backward passes included (benchmarks/README.md), and
the operations here keep it. Builds run as trained (``as_trained``) keep torch's default,
so that they round as the reference code did."""


def check_activation(name: str) -> str:
    if name not in ACTIVATION_GAINS:
        raise CheckpointError(
            f"StyleGAN2 activation {name!r} is not supported (supported: "
            f"{', '.join(ACTIVATION_GAINS)})"
        )
    return name


def bias_act(
    x: torch.Tensor,
    bias: torch.Tensor | None,
    activation: str = "linear",
    gain: float | None = None,
    clamp: float | None = None,
) -> torch.Tensor:
    """``clamp(gain * act(x + bias))``, the bias along dimension 1; ``gain`` defaults to the
    activation's own."""
    if bias is not None:
        x = x + bias.to(x.dtype).reshape(1, -1, *([1] * (x.dim() - 2)))
    if activation == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE)
    elif activation == "relu":
        x = F.relu(x)
    gain = ACTIVATION_GAINS[activation] if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each row divided by its root mean square (the mapping network's input)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def upfirdn(
    x: torch.Tensor,
    fir: torch.Tensor,
    up: int = 1,
    down: int = 1,
    pad: tuple[int, int, int, int] = (0, 0, 0, 0),
    gain: float = 1.0,
) -> torch.Tensor:
    """Upsample by zero insertion, pad ``(left, right, top, bottom)`` (negative crops),
    convolve every channel with the 2-D ``fir`` times ``gain``, keep every ``down``-th.

    Computed without the zeros: upsampling is one depthwise transposed convolution with
    stride ``up`` (each output phase sees every ``up``-th tap, a quarter of the products at
    2), cropped to the padded grid; downsampling is a depthwise convolution with stride
    ``down`` (only the kept outputs are computed). Both keep a channels-last layout."""
    c, h, w = x.shape[1:]
    left, right, top, bottom = pad
    kernel = (fir * gain).to(x.dtype)[None, None].repeat(c, 1, 1, 1)
    if up > 1:
        # The transposed convolution is the full convolution of the zero-stuffed signal with
        # the filter; output i of the padded one lies at full[i + taps - 1 - pad].
        taps_y, taps_x = fir.shape
        full = F.conv_transpose2d(x, kernel, stride=up, groups=c)
        crop_left, crop_top = taps_x - 1 - left, taps_y - 1 - top
        keep_x = up * w + left + right - taps_x + 1
        keep_y = up * h + top + bottom - taps_y + 1
        x = F.pad(full, [-crop_left, crop_left + keep_x - full.shape[3],
                         -crop_top, crop_top + keep_y - full.shape[2]])  # fmt: skip
        return x[:, :, ::down, ::down] if down > 1 else x
    x = F.pad(x, [left, right, top, bottom])
    # A convolution (not a correlation): flip the filter for conv2d.
    return F.conv2d(x, kernel.flip([2, 3]), groups=c, stride=down)


def upsample2d(x: torch.Tensor, fir: torch.Tensor) -> torch.Tensor:
    """Twice the size, low-pass filtered: the padding centres the filter on the output grid."""
    size = fir.shape[-1]
    low, high = (size + 1) // 2, (size - 2) // 2
    return upfirdn(x, fir, up=2, pad=(low, high, low, high), gain=4.0)


def conv2d_up(
    x: torch.Tensor, weight: torch.Tensor, fir: torch.Tensor | None, up: int, groups: int = 1
) -> torch.Tensor:
    """Convolution with ``weight`` (OIkk, an odd k, "same" padding), after upsampling by
    ``up`` (1 or 2) with the low-pass ``fir``.

    At 2 the input is upsampled and convolved in one transposed convolution with stride 2
    (a true convolution with the zero-stuffed input), then low-pass filtered; the paddings
    put the output on the same grid as upsampling first and convolving after."""
    k = weight.shape[-1]
    if up == 1:
        return F.conv2d(x, weight, padding=k // 2, groups=groups)
    assert fir is not None
    size = fir.shape[-1]
    # Padding of the upsampled signal before the filter: the convolution's own "same"
    # padding plus the filter's centring (as in upsample2d).
    left = k // 2 + (size + up - 1) // 2
    right = k // 2 + (size - up) // 2
    if k == 1:
        x = F.conv2d(x, weight, groups=groups)
        return upfirdn(x, fir, up=up, pad=(left, right, left, right), gain=up**2)
    # The transposed convolution already grew the signal by k - 1 on the left and k - up on
    # the right: that much less padding is left for the filter.
    left, right = left - (k - 1), right - (k - up)
    out, per_group = weight.shape[0] // groups, weight.shape[1]
    # conv_transpose2d wants (in, out / groups, k, k): swap the channel axes group by group.
    swapped = weight.reshape(groups, out, per_group, k, k).transpose(1, 2)
    x = F.conv_transpose2d(x, swapped.reshape(groups * per_group, out, k, k), stride=up,
                           groups=groups)  # fmt: skip
    return upfirdn(x, fir, pad=(left, right, left, right), gain=up**2)


def conv2d_down(x: torch.Tensor, weight: torch.Tensor, fir: torch.Tensor, down: int = 2
                ) -> torch.Tensor:  # fmt: skip
    """Low-pass filter, then convolve with stride ``down`` (a "same"-padded odd kernel): the
    discriminator's downsampling convolution; a 1x1 kernel filters and subsamples first."""
    k, size = weight.shape[-1], fir.shape[-1]
    left, right = k // 2 + (size - down + 1) // 2, k // 2 + (size - down) // 2
    if k == 1:
        x = upfirdn(x, fir, down=down, pad=(left, right, left, right))
        return F.conv2d(x, weight)
    x = upfirdn(x, fir, pad=(left, right, left, right))
    return F.conv2d(x, weight, stride=down)


def downsample2d(x: torch.Tensor, fir: torch.Tensor) -> torch.Tensor:
    """Half the size, low-pass filtered."""
    size = fir.shape[-1]
    low, high = (size - 1) // 2, (size - 2) // 2
    return upfirdn(x, fir, down=2, pad=(low, high, low, high))


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    up: int = 1,
    fir: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
    fused: bool = False,
    as_nvlabs: bool = False,
) -> torch.Tensor:
    """Convolution whose input channels are scaled per sample by ``styles`` (N, I), with
    each output channel divided by the norm of its per-sample weights when ``demodulate``;
    ``noise`` is added after demodulation.

    Computed by scaling the activations before and after one shared convolution, which
    equals convolving with the per-sample weights, or, when ``fused``, as one grouped
    convolution with each sample's own weights (how NVlabs' code runs float32 blocks at
    inference; the same function, rounded differently). ``as_nvlabs``: the demodulation
    rounded as NVlabs' code rounds it (:func:`demodulation`). ``weight`` and ``styles`` are
    float32; ``x`` may be float16 (a snapshot's fp16 blocks)."""
    n = x.shape[0]
    if x.dtype == torch.float16 and demodulate:
        # Scale weights and styles to a maximum of 1 before float16 can overflow;
        # demodulation divides the scale out again.
        largest = weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True)
        weight = weight * (1 / math.sqrt(weight[0].numel()) / largest)
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
    scale = demodulation(weight, styles, as_nvlabs) if demodulate else None
    if fused:
        per_sample = weight.unsqueeze(0) * styles.reshape(n, 1, -1, 1, 1)  # N O I k k
        if scale is not None:
            per_sample = per_sample * scale.reshape(n, -1, 1, 1, 1)
        grouped = x.reshape(1, -1, *x.shape[2:])
        kernels = per_sample.reshape(-1, *weight.shape[1:]).to(x.dtype)
        out = conv2d_up(grouped, kernels, fir, up, groups=n)
        out = out.reshape(n, -1, *out.shape[2:])
        return out if noise is None else out + noise
    x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
    x = conv2d_up(x, weight.to(x.dtype), fir, up)
    if scale is None:
        return x if noise is None else x + noise.to(x.dtype)
    scale = scale.reshape(n, -1, 1, 1).to(x.dtype)
    if noise is None:
        return x * scale
    return torch.addcmul(noise.to(x.dtype), x, scale)  # one rounding, as trained


def demodulation(weight: torch.Tensor, styles: torch.Tensor, as_nvlabs: bool = False
                 ) -> torch.Tensor:  # fmt: skip
    """(N, O): 1 / the norm of each sample's modulated weights ``weight * styles``.

    The sum over i and k of (w_oik s_i)^2 is the sum over i of s_i^2 times the sum over k of
    w_oik^2: one (N, I) x (I, O) product, in float32 under bf16 autocast too. Forming the
    (N, O, I, k, k) per-sample weights instead, as NVlabs' code does (``as_nvlabs``, so a
    snapshot's fp16 blocks round as they did there), made their backward pass the largest
    part of the generator's."""
    if as_nvlabs:
        per_sample = weight.unsqueeze(0) * styles.reshape(len(styles), 1, -1, 1, 1)
        return (per_sample.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()
    with torch.autocast(styles.device.type, enabled=False):
        norms = styles.float().square() @ weight.float().square().sum(dim=[2, 3]).t()
    return (norms + 1e-8).rsqrt()


class FullyConnected(nn.Module):
    """A linear layer with an equalised learning rate: ``weight`` and ``bias`` stored
    divided by ``lr_multiplier``, the weight used times lr_multiplier / sqrt(in_features)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "linear",
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.activation = check_activation(activation)
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight * self.weight_gain
        bias: torch.Tensor | None = self.bias
        if bias is not None and self.bias_gain != 1:
            bias = bias * self.bias_gain
        if self.activation == "linear" and bias is not None:
            # One fused multiply-add, as trained: under fp16 blocks a last-bit difference
            # in a style can flip a rounding downstream.
            return torch.addmm(bias.unsqueeze(0), x, weight.t())
        return bias_act(x.matmul(weight.t()), bias, self.activation)
