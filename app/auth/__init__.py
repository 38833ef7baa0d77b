"""Who is asking: passwords (argon2), login with rate limiting, API tokens, the request's user."""
