"""Time constants, defined once for the whole package (it imports nothing from hwcost).

A year is 365 days of 24 hours (8,760 h) and a month a twelfth of it (730 h), as prices per
hour are annualised by the providers and in the source article.
"""

HOURS_PER_DAY = 24
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86_400.0
HOURS_PER_YEAR = 8760.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0
