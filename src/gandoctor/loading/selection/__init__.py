"""Selection: which entry of a checkpoint holds the generator's weights, and which key
prefix to strip (``entries``; ``prefixes`` judges names such as ``netG_state_dict``,
``g_ema`` or ``module.``)."""
