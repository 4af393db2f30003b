"""The DCGAN generator of the WGAN authors' code (``DCGAN_G``, and ``DCGAN_G_nobn`` without
batch norm), and recognition of its checkpoints.

Its one Sequential, ``main``, names every module after its stage and sizes:
``initial:100-512:convt``, ``initial:512:batchnorm``, ``pyramid:512-256:convt``,
``extra-layers-0:64:conv``, ``final:64-3:convt``. Colons and dashes are legal module names
(``add_module``), and they make these key names a complete record of the constructor
arguments: the latent size, every width, the extra layers and the channels. Recognition reads
them from there; the strict load afterwards checks that the shapes agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.base import BuiltinGenerator, LayoutMismatch, missing
from gandoctor.messages import format_keys

LAYOUT = "the WGAN authors' DCGAN_G generator (main.initial:*, main.pyramid:*, main.final:* keys)"

_ATTR = "main"
_KERNEL = 4
_STAGE = re.compile(r"(initial|pyramid|extra-layers-\d+|final):")
"""Enough to claim a file: no other known layout has module names of this form."""
_MODULE = re.compile(
    r"(?P<stage>initial|pyramid|extra-layers-(?P<extra>\d+)|final)"
    r":(?P<first>\d+)(?:-(?P<second>\d+))?:(?P<kind>convt|conv|batchnorm)"
)


class WGANDCGANGenerator(BuiltinGenerator):
    """``z (N, nz, 1, 1) -> image (N, nc, isize, isize)`` in (-1, 1), built as ``DCGAN_G``.

    The arguments are the original's (its ``ngpu`` aside), with ``batchnorm=False`` for
    ``DCGAN_G_nobn``. As there, the first width is ``(ngf // 2) * (isize // 4)`` and each
    pyramid stage halves it until the final transposed convolution reaches ``isize``.
    """

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init__(
        self,
        isize: int,
        nz: int,
        nc: int,
        ngf: int,
        n_extra_layers: int = 0,
        batchnorm: bool = True,
    ) -> None:
        super().__init__()
        doublings = math.log2(isize / _KERNEL) if isize >= 2 * _KERNEL else -1.0
        if doublings < 1 or not doublings.is_integer():
            raise ValueError(f"isize must be 8, 16, 32, 64, ..., got {isize}")
        if nz < 1 or nc < 1 or ngf < 2 or n_extra_layers < 0:
            raise ValueError(
                "WGANDCGANGenerator needs nz >= 1, nc >= 1, ngf >= 2 and n_extra_layers >= 0, "
                f"got nz={nz}, nc={nc}, ngf={ngf}, n_extra_layers={n_extra_layers}"
            )
        self.isize, self.nz, self.nc, self.ngf = int(isize), int(nz), int(nc), int(ngf)
        self.n_extra_layers, self.batchnorm = int(n_extra_layers), bool(batchnorm)

        main = nn.Sequential()

        def stage(prefix: str, conv: nn.Module, conv_name: str, width: int) -> None:
            main.add_module(f"{prefix}:{conv_name}", conv)
            if self.batchnorm:
                main.add_module(f"{prefix}:{width}:batchnorm", nn.BatchNorm2d(width))
            main.add_module(f"{prefix}:{width}:relu", nn.ReLU(True))

        cngf = (ngf // 2) * (isize // 4)
        convt = nn.ConvTranspose2d(nz, cngf, _KERNEL, 1, 0, bias=False)
        stage("initial", convt, f"{nz}-{cngf}:convt", cngf)
        size = _KERNEL
        while size < isize // 2:
            convt = nn.ConvTranspose2d(cngf, cngf // 2, _KERNEL, 2, 1, bias=False)
            stage("pyramid", convt, f"{cngf}-{cngf // 2}:convt", cngf // 2)
            cngf, size = cngf // 2, size * 2
        for t in range(n_extra_layers):
            conv = nn.Conv2d(cngf, cngf, 3, 1, 1, bias=False)
            stage(f"extra-layers-{t}", conv, f"{cngf}:conv", cngf)
        main.add_module(
            f"final:{cngf}-{nc}:convt", nn.ConvTranspose2d(cngf, nc, _KERNEL, 2, 1, bias=False)
        )
        main.add_module(f"final:{nc}:tanh", nn.Tanh())
        self.main = main

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        return (self.nz, 1, 1)

    def arch_kwargs(self) -> dict[str, Any]:
        return {
            "isize": self.isize,
            "nz": self.nz,
            "nc": self.nc,
            "ngf": self.ngf,
            "n_extra_layers": self.n_extra_layers,
            "batchnorm": self.batchnorm,
        }

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]  # the same numbers as (N, nz, 1, 1)
        output: torch.Tensor = self.main(z)
        return output


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """``WGANDCGANGenerator`` kwargs from the module names of a ``DCGAN_G`` file.

    Widths halve from stage to stage, so the largest width named is the initial one and the
    smallest the final one, whichever single tensor is missing; their ratio gives ``isize``.
    """
    modules = [
        key[len(_ATTR) + 1 :].rpartition(".")[0] for key in tensors if key.startswith(f"{_ATTR}.")
    ]
    if not any(_STAGE.match(module) for module in modules):
        return None
    nz = nc = None
    widths: set[int] = set()
    extras = 0
    batchnorm = False
    for module in modules:
        match = _MODULE.fullmatch(module)
        if match is None:
            continue  # a foreign module: the strict load lists it as unexpected
        stage, kind = match["stage"], match["kind"]
        first = int(match["first"])
        second = int(match["second"]) if match["second"] else None
        batchnorm = batchnorm or kind == "batchnorm"
        if match["extra"] is not None:
            extras = max(extras, int(match["extra"]) + 1)
        if stage == "initial" and kind == "convt" and second is not None:
            nz = first
            widths.add(second)
        elif stage == "final" and kind == "convt" and second is not None:
            nc = second
            widths.add(first)
        else:
            widths.update(size for size in (first, second) if size is not None)
    if not widths or min(widths) < 1:
        raise LayoutMismatch(
            f"no module name tells its widths (modules: {format_keys(set(modules))})"
        )
    initial, final = max(widths), min(widths)
    ratio = initial // final
    if initial % final or ratio & (ratio - 1):
        raise LayoutMismatch(
            f"its widths {sorted(widths, reverse=True)} do not halve stage by stage"
        )
    if final % 2:
        # DCGAN_G's last width is 2 * (ngf // 2): always even, whatever ngf was.
        raise LayoutMismatch(f"its last width {final} is odd, which DCGAN_G never produces")
    if nz is None:
        raise missing(f"main.initial:<nz>-{initial}:convt.weight", why="it tells the latent size")
    if nc is None:
        raise missing(f"main.final:{final}-<nc>:convt.weight", why="it tells the channels")
    return {
        "isize": 2 * _KERNEL * ratio,
        "nz": nz,
        "nc": nc,
        "ngf": final,
        "n_extra_layers": extras,
        "batchnorm": batchnorm,
    }
