"""CSV and vCard import (issue 7): parsing, column mapping, batched import, undo."""
