"""Test-wide settings."""

from hypothesis import settings

# Property tests draw the same examples on every run, so a red CI run always reproduces.
settings.register_profile("hwcost", derandomize=True, print_blob=True)
settings.load_profile("hwcost")
