"""The one error the accounting package raises."""


class AccountingError(Exception):
    """A voucher could not be posted as asked: a refusal to pass on to the caller, nothing was written."""
