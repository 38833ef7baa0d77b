"""Deadlines in working days: the calendar, due times, reminders, escalation, and the sweep that fires them."""
