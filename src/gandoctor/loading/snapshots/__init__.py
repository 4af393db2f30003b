"""Training snapshots read without running their code: NVlabs' StyleGAN2-ADA pickles
(``unpickler`` reads them as plain records, ``nvlabs`` builds the generator from them)."""
