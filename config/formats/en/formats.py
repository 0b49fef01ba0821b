# Unambiguous medium dates on every page (DESIGN §5b): "5 Dec 2026", never 12/05/2026.
# Input formats stay Django's, so forms accept what they did.
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
