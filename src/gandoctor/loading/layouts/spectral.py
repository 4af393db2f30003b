"""Spectral-normed layers saved for a module that has none.

``torch.nn.utils.spectral_norm`` saves a layer's weight as ``weight_orig`` with its power
iteration's ``weight_u`` and ``weight_v``; the newer ``parametrizations.spectral_norm`` as
``parametrizations.weight.original`` with ``parametrizations.weight.0._u`` and ``._v``. A
module built without spectral norm (a recognised layout, or an ``--arch`` class whose
constructor adds it only for training) expects ``weight``. In eval mode spectral norm uses
``weight_orig / sigma`` with ``sigma = u . (W v)`` from the saved vectors, with no power
iteration: that is the weight such a module gets here, and a note says so.
"""

from __future__ import annotations

import torch
from torch import nn

from gandoctor.messages import format_keys

_FORMS = (
    ("weight_orig", "weight_u", "weight_v"),
    ("parametrizations.weight.original", "parametrizations.weight.0._u",
     "parametrizations.weight.0._v"),
)  # fmt: skip
"""(weight, u, v) as the two spectral norms of torch name them, after the layer's path."""
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
"""Layers whose output axis is 1, along which spectral norm takes their weight's matrix."""


def fold_spectral_norm(
    module: nn.Module, tensors: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], str | None]:
    """``tensors`` with each spectral-normed layer the module expects as a plain ``weight``
    replaced by that weight, and a note naming the layers; ``tensors`` itself and None where
    there is none."""
    expected = module.state_dict(keep_vars=True)
    folded: dict[str, torch.Tensor] = dict(tensors)
    layers: list[str] = []
    for key in expected:
        if not key.endswith("weight") or key in tensors:
            continue
        path = key[: -len("weight")]
        for names in _FORMS:
            weight_key, u_key, v_key = (path + name for name in names)
            if not all(name in tensors for name in (weight_key, u_key, v_key)):
                continue
            weight = _normalised(module, path, *(tensors[k] for k in (weight_key, u_key, v_key)))
            if weight is None or weight.shape != expected[key].shape:
                continue
            for name in (weight_key, u_key, v_key):
                del folded[name]
            folded[key] = weight
            layers.append(path.rstrip(".") or "(the module)")
            break
    if not layers:
        return tensors, None
    form = (
        "weight_orig, weight_u, weight_v"
        if any(k.endswith("weight_orig") for k in tensors)
        else "parametrizations.weight.original, _u, _v"
    )
    return folded, (
        f"found {format_keys(layers, limit=3)} in spectral-norm form ({form}) where the module "
        "has a plain weight: read each as weight_orig / sigma from the saved u and v, the "
        "weight spectral norm uses in eval mode"
    )


def plain_names(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``tensors`` with each spectral-normed layer's saved weight under the name ``weight``
    and its u and v left out: what recognising a layout reads (shapes only; the weight
    itself is then :func:`fold_spectral_norm`'s)."""
    renamed = dict(tensors)
    for key in tensors:
        for names in _FORMS:
            path = key[: -len(names[0])]
            keys = [path + name for name in names]
            if (
                key.endswith(names[0])
                and path + "weight" not in tensors
                and all(k in tensors for k in keys)
            ):
                for k in keys:
                    del renamed[k]
                renamed[path + "weight"] = tensors[key]
    return renamed


def _normalised(
    module: nn.Module, path: str, weight: torch.Tensor, u: torch.Tensor, v: torch.Tensor
) -> torch.Tensor | None:
    """``weight / sigma``, the matrix taken along the layer's output axis (axis 1 for a
    transposed convolution, as spectral norm takes it); None where the shapes do not fit."""
    try:
        layer = module.get_submodule(path.rstrip("."))
    except AttributeError:
        return None
    axis = 1 if isinstance(layer, _TRANSPOSED) else 0
    if weight.dim() <= axis or u.dim() != 1 or v.dim() != 1 or not weight.is_floating_point():
        return None
    matrix = weight.movedim(axis, 0).reshape(weight.shape[axis], -1)
    if matrix.shape != (u.numel(), v.numel()):
        return None
    sigma = torch.dot(u.to(matrix.dtype), torch.mv(matrix, v.to(matrix.dtype)))
    return weight / sigma
