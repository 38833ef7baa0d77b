"""Which new passwords are refused: too short, too long, the username, one character or a run of keys,
or one of the most common passwords (a small built-in list, in the spirit of NIST SP 800-63B 5.1.1.2).
"""
# The most used passwords in public breach lists, Chinese sites' favourites included. Compared lowercased.
COMMON_PASSWORDS = frozenset("""
123456 1234567 12345678 123456789 1234567890 0123456789 987654321 9876543210 111111 1111111 11111111
000000 00000000 666666 66666666 888888 88888888 999999 99999999 112233 11223344 121212 12121212
123123 123123123 123321 123654 147258 147258369 159753 159357 654321 7654321 87654321 5201314
520520 1314520 woaini woaini1314 woaini520 iloveyou iloveyou1 password password1 password123 passw0rd
p@ssw0rd p@ssword admin admin123 admin1234 admin888 administrator root root123 123qwe 123qweasd
qwe123 qweasd qweasdzxc qwerty qwerty123 qwertyuiop 1qaz2wsx 1q2w3e4r 1q2w3e4r5t 1q2w3e 1qazxsw2
zaq12wsx asdfgh asdfghjkl asd123 zxcvbn zxcvbnm abc123 abc12345 abcd1234 a123456 a1234567 a12345678
aa123456 aa112233 q123456 qq123456 123456a 123456aa 123456abc abcdefg abcdefgh abcdef letmein
welcome welcome1 monkey dragon football baseball sunshine princess superman master shadow
trustno1 changeme default guest test test123 test1234 demo demo123 user user123 123abc 1a2b3c4d
qazwsxedc 7758521 5211314 147852369 789456123 741852963 963852741 147852 258369 369258 aini1314
""".split())

# Rows and runs people type when asked for "a password".
KEY_RUNS = ("0123456789", "9876543210", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm")

MAX_PASSWORD_LENGTH = 256  # argon2 takes any length; this only bounds the work one request can ask for


def _is_run(password: str) -> bool:
    lowered = password.lower()
    return any(lowered in run or lowered in run[::-1] for run in KEY_RUNS)


def password_problems(password: str, username: str, min_length: int) -> list[str]:
    """Chinese messages for what is wrong with `password` as a new password; [] when it is acceptable."""
    password = password or ""
    if len(password) < min_length:
        return [f"密码至少 {min_length} 位"]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"密码最多 {MAX_PASSWORD_LENGTH} 位"]
    lowered, name = password.lower(), (username or "").lower()
    if name and (name in lowered or lowered in name):
        return ["密码不能包含用户名"]
    if len(set(password)) == 1:
        return ["密码不能由同一个字符重复组成"]
    if lowered in COMMON_PASSWORDS:
        return ["这是最常见的密码之一，很容易被猜中，请换一个"]
    if _is_run(password):
        return ["密码不能是连续的数字或键盘上相邻的字母"]
    return []
