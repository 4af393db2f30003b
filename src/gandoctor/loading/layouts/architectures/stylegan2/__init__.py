"""StyleGAN2 in plain PyTorch: the operations (``ops``), the layers named as NVlabs'
snapshots name them (``layers``) and the z -> image generator (``generator``)."""
