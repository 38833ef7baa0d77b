"""Password hashing with argon2id; parameters come from an argon2-cffi profile named in config."""
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError


@lru_cache(maxsize=4)
def hasher(profile: str = "RFC_9106_LOW_MEMORY") -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def hash_password(password: str, profile: str) -> str:
    return hasher(profile).hash(password)


def verify_password(stored_hash: str, password: str, profile: str) -> bool:
    try:
        return hasher(profile).verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=4)
def dummy_hash(profile: str) -> str:
    """One hash per profile, made once: verifying against it costs what verifying a real user's does."""
    return hash_password("not-a-real-password", profile)


def burn_time(password: str, profile: str) -> None:
    """Spend on an unknown username exactly the one verification a known one costs (no hashing)."""
    verify_password(dummy_hash(profile), password, profile)
