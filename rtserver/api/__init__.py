"""REST transport under /api/v1: thin handlers over services."""
