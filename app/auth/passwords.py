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


# Verified against when the username does not exist, so a miss costs as long as a hit.
_DUMMY_HASHES: dict[str, str] = {}


def burn_time(password: str, profile: str) -> None:
    dummy = _DUMMY_HASHES.setdefault(profile, hash_password("not-a-real-password", profile))
    verify_password(dummy, password, profile)
