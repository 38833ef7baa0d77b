"""Control rules (控制规则) and the per-township settings they read: see README.md."""
