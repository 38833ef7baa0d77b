"""The one refusal the input checks raise: a 400 that both error handlers already know how to show.

It carries webargs' message shape ({location: {field: [messages]}}) so the API answers it exactly like
a schema error (validation_error with field details), and a Chinese description for the error page.
"""
from werkzeug.exceptions import BadRequest


class InputRefused(BadRequest):
    def __init__(self, location: str, field: str, message: str):
        super().__init__(description=f"{field}：{message}" if field else message)
        self.message = message
        self.data = {"messages": {location: {field or "_schema": [message]}}}
