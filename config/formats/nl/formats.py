# Unambiguous medium dates on every page (DESIGN §5b): "5 dec 2026", never 05-12-2026.
# Input formats stay Django's, so forms accept what they did.
DATE_FORMAT = "j b Y"
SHORT_DATE_FORMAT = "j b Y"
DATETIME_FORMAT = "j b Y, H:i"
SHORT_DATETIME_FORMAT = "j b Y, H:i"
MONTH_DAY_FORMAT = "j b"
YEAR_MONTH_FORMAT = "b Y"
