"""The notification outbox: in-app notices also sent by log, email or SMS, reliably and after commit.

writing.py   one message per enabled channel and addressee, written in the notification's transaction
delivery.py  claim (conditional UPDATE), send, mark sent or retry with backoff; `deliver_due` for the sweep
senders.py   LoggingSender (default), SmtpSender, SmsWebhookSender; `make_senders(config)`
"""
