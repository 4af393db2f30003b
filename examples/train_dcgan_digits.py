"""Train a small DCGAN on the scikit-learn digits and save generator checkpoints.

This is an ordinary DCGAN training script (Radford et al., 2015), written the way the
PyTorch examples write one, so the checkpoints it saves look like the ones users bring to
gandoctor: a plain ``state_dict`` of an ``nn.Sequential`` generator, with no metadata.

It saves the generator at the epochs listed in ``--save-epochs`` (epoch 0 is the untrained
initialisation), which mirrors the 1/10/25-epoch comparison of Arjovsky & Bottou (2017),
Figure 1. Each checkpoint gets an 8x8 grid of samples next to it. With ``--with-d`` each
checkpoint also holds the discriminator that trained with that generator: one safetensors
file with the two state dicts under the key prefixes ``netG.`` and ``netD.``, so that
gandoctor can measure the checkpoint's own D (``--own-d``).

Usage::

    python examples/make_digits.py           # once: writes examples/digits/
    python examples/train_dcgan_digits.py    # about a minute or two on a laptop CPU
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

EXAMPLES = Path(__file__).resolve().parent

NZ = 64  # size of the latent vector z
NGF = 32  # generator feature maps in the last hidden layer
NDF = 32  # discriminator feature maps in the first layer
NC = 1  # image channels (grayscale)
IMAGE_SIZE = 32


class Generator(nn.Module):
    """DCGAN generator: z of shape (N, nz, 1, 1) -> image (N, nc, 32, 32) in [-1, 1]."""

    def __init__(self, nz: int = NZ, ngf: int = NGF, nc: int = NC) -> None:
        super().__init__()
        self.main = nn.Sequential(
            # (nz, 1, 1) -> (ngf*4, 4, 4)
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # -> (ngf*2, 8, 8)
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # -> (ngf, 16, 16)
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # -> (nc, 32, 32); tanh because the real images are scaled to [-1, 1]
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    """DCGAN discriminator: image (N, nc, 32, 32) -> probability of "real", shape (N,)."""

    def __init__(self, ndf: int = NDF, nc: int = NC) -> None:
        super().__init__()
        self.main = nn.Sequential(
            # (nc, 32, 32) -> (ndf, 16, 16); no BatchNorm on the input layer, as in DCGAN
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (ndf*2, 8, 8)
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (ndf*4, 4, 4)
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (1, 1, 1)
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)


def weights_init(m: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02)."""
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def load_images(folder: Path) -> torch.Tensor:
    """Read every PNG under ``folder`` into a (N, 1, 32, 32) float tensor in [-1, 1]."""
    # Sorted so the tensor, and therefore the whole run, does not depend on the order in
    # which the file system lists the files.
    paths = sorted(folder.rglob("*.png"))
    if not paths:
        raise SystemExit(f"no PNG files under {folder}; run examples/make_digits.py first")
    arrays = []
    for path in paths:
        with Image.open(path) as img:
            arrays.append(np.asarray(img.convert("L").resize((IMAGE_SIZE, IMAGE_SIZE))))
    pixels = torch.from_numpy(np.stack(arrays)).float().unsqueeze(1)
    # Same range as the generator's tanh output.
    return pixels / 127.5 - 1.0


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8, pad: int = 2) -> None:
    """Save a batch of [-1, 1] grayscale images as one PNG grid on a white background."""
    n, _, h, w = images.shape
    rows = (n + nrow - 1) // nrow
    grid = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad), 255, dtype=np.uint8)
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    for i in range(n):
        r, c = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top : top + h, left : left + w] = pixels[i, 0]
    Image.fromarray(grid, mode="L").save(path, optimize=True)


def plain_state(net: nn.Module, prefix: str = "") -> dict[str, torch.Tensor]:
    """``net``'s state dict as contiguous CPU copies (safetensors refuses views that share
    storage), keys under ``prefix``. Floating-point tensors are written as float32;
    BatchNorm's num_batches_tracked stays int64, exactly as torch.save would store it."""
    return {
        prefix + k: (v.float() if v.is_floating_point() else v).detach().cpu().contiguous().clone()
        for k, v in net.state_dict().items()
    }


def save_generator(
    net: Generator,
    fixed_noise: torch.Tensor,
    out: Path,
    epoch: int,
    net_d: Discriminator | None = None,
) -> None:
    """Save the generator's weights (and with ``net_d`` the discriminator's beside them)
    and a grid of samples from ``fixed_noise``."""
    if net_d is None:
        state = plain_state(net)
    else:
        state = {**plain_state(net, "netG."), **plain_state(net_d, "netD.")}
    ckpt = out / f"dcgan_digits_epoch{epoch}.safetensors"
    save_file(state, str(ckpt))

    # Samples in eval mode (BatchNorm running statistics), which is how gandoctor runs a
    # generator by default, so the grid shows what gandoctor will probe.
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            samples = net(fixed_noise)
    finally:
        net.train(was_training)
    save_grid(samples, out / f"samples_epoch{epoch}.png")
    print(f"saved {ckpt.name} and samples_epoch{epoch}.png")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=EXAMPLES / "digits", help="PNG folder")
    parser.add_argument("--epochs", type=int, default=25, help="epochs to train")
    parser.add_argument("--out", type=Path, default=EXAMPLES, help="where checkpoints go")
    parser.add_argument(
        "--save-epochs",
        default="0,1,10,25",
        help="comma-separated epochs after which to save G; 0 = untrained initialisation",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=999)
    parser.add_argument(
        "--with-d",
        action="store_true",
        help="save D beside G in each checkpoint (key prefixes netG. and netD.)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    save_epochs = {int(e) for e in args.save_epochs.split(",") if e.strip()}
    args.out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(args.seed)
    device = torch.device("cpu")

    data = load_images(args.data)
    print(f"{len(data)} real images from {args.data}")
    # A seeded generator for the shuffling keeps the batch order reproducible.
    loader = DataLoader(
        TensorDataset(data),
        batch_size=args.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(args.seed),
    )

    net_g = Generator().to(device)
    net_g.apply(weights_init)
    net_d = Discriminator().to(device)
    net_d.apply(weights_init)

    criterion = nn.BCELoss()
    # Drawn once, so the sample grids of different epochs show the same z.
    fixed_noise = torch.randn(64, NZ, 1, 1, device=device)
    real_label, fake_label = 1.0, 0.0

    opt_d = torch.optim.Adam(net_d.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=args.lr, betas=(args.beta1, 0.999))

    saved_d = net_d if args.with_d else None
    if 0 in save_epochs:
        save_generator(net_g, fixed_noise, args.out, 0, saved_d)

    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        sums = {"loss_d": 0.0, "loss_g": 0.0, "d_x": 0.0, "d_g_z": 0.0}
        batches = 0
        for (real,) in loader:
            real = real.to(device)
            b = real.size(0)

            # (1) Update D: maximise log D(x) + log(1 - D(G(z))).
            net_d.zero_grad()
            label = torch.full((b,), real_label, device=device)
            out_real = net_d(real)
            loss_d_real = criterion(out_real, label)
            loss_d_real.backward()

            noise = torch.randn(b, NZ, 1, 1, device=device)
            fake = net_g(noise)
            label.fill_(fake_label)
            # detach(): this step trains D only, so no gradient needs to reach G.
            out_fake = net_d(fake.detach())
            loss_d_fake = criterion(out_fake, label)
            loss_d_fake.backward()
            opt_d.step()

            # (2) Update G with the non-saturating cost: maximise log D(G(z)), i.e. BCE
            # against the "real" label. The minimax cost log(1 - D(G(z))) would give almost
            # no gradient while D easily rejects the early, poor samples.
            net_g.zero_grad()
            label.fill_(real_label)
            out_fake_for_g = net_d(fake)
            loss_g = criterion(out_fake_for_g, label)
            loss_g.backward()
            opt_g.step()

            sums["loss_d"] += (loss_d_real + loss_d_fake).item()
            sums["loss_g"] += loss_g.item()
            sums["d_x"] += out_real.mean().item()
            sums["d_g_z"] += out_fake.mean().item()
            batches += 1

        means = {k: v / batches for k, v in sums.items()}
        print(
            f"[{epoch}/{args.epochs}] Loss_D {means['loss_d']:.4f}  Loss_G {means['loss_g']:.4f}"
            f"  D(x) {means['d_x']:.4f}  D(G(z)) {means['d_g_z']:.4f}"
            f"  ({time.perf_counter() - start:.1f} s)"
        )
        if epoch in save_epochs:
            save_generator(net_g, fixed_noise, args.out, epoch, saved_d)


if __name__ == "__main__":
    main()
