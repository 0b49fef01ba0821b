"""CSV and vCard import: parsing, column mapping, batched import, undo."""
