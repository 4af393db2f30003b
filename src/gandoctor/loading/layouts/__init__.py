"""Layouts: from a state dict to a module.

A layout is the set of keys and shapes one package's saving code writes. ``registry``
recognises the built-in ones from their keys and builds them (``architectures``); the
user names the rest with ``--arch`` (``custom_arch``, ``factories`` for constructors that
take a config), or with an ``--adapter`` file (``adapters``). ``state`` fills the built
module strictly, with messages that name the keys that do not fit. ``nvlabs_snapshot``
builds G from the records of an NVlabs training pickle.
"""
