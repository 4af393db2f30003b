"""The checkpoint's own discriminator, for the own-D measurement: found beside G in the
same file or a paired one (``checkpoint``), or built from the user's ``--disc`` class
(``custom``)."""
