"""REST API v1 (DESIGN §6): the same visibility rules and services as the browser."""
