"""The user-facing error classes, re-exported from :mod:`archsim.base.errors` (where every layer imports them)."""

from archsim.base.errors import *  # noqa: F401,F403  (re-exported)
from archsim.base.errors import __all__  # noqa: F401
