"""The checkpoint's own discriminator, measured without training (analyses.own_discriminator):
the training signal the generator actually had at that moment. Torch-free."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Spread:
    """A mean over samples (or latent batches) with its standard deviation."""

    mean: float
    std: float


@dataclass(frozen=True)
class OwnDiscriminator:
    """Figures of the checkpoint's D on the probe's held-out reals and fixed latents.

    Logits are read as the non-saturating GAN's (D = sigmoid(logit)) unless ``loss`` says
    the D was trained otherwise; "held-out" means held out from the probe's D, not from
    the GAN's training: users pass the data the GAN trained on."""

    architecture: str
    """What was built: ``stylegan2 (NVlabs snapshot D)``, ``rosinality_stylegan2 d``, ..."""
    source: str
    """Where it came from: the checkpoint's entry (``D``, ``d``, ``netD``) or file."""
    loss: str
    """The loss the D was trained with where the checkpoint says so, else ``non-saturating
    (assumed)``."""
    heldout_accuracy: float
    mean_d_real: float
    mean_d_fake: float
    js_lower_bound: float
    minimax_grad_norm: Spread
    nonsat_grad_norm: Spread
    """The generator's gradient norms under both costs through this D, over the probe's K
    fixed latent batches (the probe's own machinery)."""
    r1: Spread
    """E ||grad_x D(x)||^2 on held-out reals (the R1 penalty before its gamma / 2)."""
    r2: Spread
    """The same on generated samples."""
    gp_norm: Spread
    """||grad_x D|| on interpolates between held-out reals and fakes (WGAN-GP's norm)."""
    r_t: float
    """E[sign D(x)] on the reals D's training set shares with the probe's (ADA's r_t)."""
    r_v: float
    """(E[D_train] - E[D_unseen]) / (E[D_train] - E[D_fake]) on logits (analyses.memorisation),
    the unseen reals being ``unseen``'s, else the probe's held-out split; NaN where the
    denominator is not significant."""
    r1_samples: int = 1
    """The held-out reals R1, R2 and the WGAN-GP norm are means over."""
    latent_batches: int = 1
    """K: the latent batches the gradient norms' spread is over."""
    augment_p: float | None = None
    """ADA's augmentation probability p stored beside this D."""
    r1_gamma: float | None = None
    """The R1 weight the run claims (snapshot kwargs, rosinality ``args.r1``); None unknown."""
    unseen: str | None = None
    """Where the reals the GAN never saw came from (``--val-data``); None without them, and
    then r_v compares two splits of the GAN's own training data and says nothing of
    memorisation."""
    unseen_auc: float | None = None
    """P(D(training real) > D(unseen real)): 0.5 where D scores both alike; None without
    ``unseen``."""
    r_t_uncertainty: float = 0.0
    r_v_uncertainty: float = 0.0
    unseen_auc_uncertainty: float = 0.0
    """95 % half-widths of r_t, r_v and the AUC (analyses.memorisation)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
