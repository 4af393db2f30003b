"""One exception hierarchy for everything a user can get wrong.

The CLI catches only :class:`GanDoctorError` and turns it into one line on stderr and exit
code 2. Anything else is a bug in gandoctor and keeps its traceback.
"""


class GanDoctorError(Exception):
    """Base class: a problem with the user's input, not a bug in gandoctor."""


class CheckpointError(GanDoctorError):
    """The checkpoint cannot be read, or no generator can be built from it."""


class DataError(GanDoctorError):
    """The real data cannot be read or does not fit the generator."""


class ConfigError(GanDoctorError):
    """An option has a value that makes no sense."""
