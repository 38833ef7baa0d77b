"""Administration use cases: orgs, users and role grants, the demo seed."""
