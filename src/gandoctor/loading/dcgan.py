"""Where ``DCGANGenerator`` lived before the architectures got a package of their own; kept so
that ``from gandoctor.loading.dcgan import DCGANGenerator`` goes on working."""

from gandoctor.loading.architectures.dcgan import KERNEL, DCGANGenerator

__all__ = ["KERNEL", "DCGANGenerator"]
