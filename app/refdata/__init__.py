"""Reference code tables (基础信息): the demo seed, lookups for the budget code, and file import.

- `seed_refdata(session, now)`: the demo code sets of docs/domain.md §2.2, §2.8, §8 (demo_codes.py).
- `name_of`, `exists`, `gov_code_for`, `check_codes`: what the budget forms and rules read (C15).
- `import_file(session, path_or_bytes, filename, kind=, now=)`: .xlsx/.csv, all rows or none.

No Flask here except in cli.py; nothing commits: the caller owns the transaction.
"""
from app.refdata.importer import ImportProblem, ImportReport, RefdataImportError, import_file
from app.refdata.lookups import check_codes, exists, gov_code_for, is_leaf, name_of
from app.refdata.seed import seed_refdata

__all__ = [
    "ImportProblem", "ImportReport", "RefdataImportError", "check_codes", "exists", "gov_code_for",
    "import_file", "is_leaf", "name_of", "seed_refdata",
]
