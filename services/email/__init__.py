"""The email service: a welcome mail per registration, a mail per "new video" notification.

It keeps its own copy of addresses (from users.v1.UserRegistered), queues exactly one email
per event (keyed by the event id, in the inbox transaction) and sends the queue over SMTP
from a dispatcher loop; see dispatcher.py for what "exactly one" means across a crash.
EmailService.ListSentEmails lets operators see what went out.
"""
