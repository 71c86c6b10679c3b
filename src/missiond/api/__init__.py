"""HTTP API: thin Litestar controllers, SSE, auth guard, one error mapping."""
