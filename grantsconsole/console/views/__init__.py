"""Console views, one module per page area (apps, scopes, audit, sync, reports)."""
