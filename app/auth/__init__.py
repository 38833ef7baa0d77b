"""Who is asking: passwords (argon2, a policy for new ones), login with a bounded lockout, sessions and
API tokens that logout ends together, the request's user."""
