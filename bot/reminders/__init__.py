"""Deadline reminders: the plan and what they say (pure), the scheduler, and the admin's views and changes.

plan.py (slots, quiet hours, parsing) and messages.py (the texts) do no I/O; scheduler.py fires slots and sends
through the channels' send functions; control.py holds what the chat, the CLI and the web console call.
"""
