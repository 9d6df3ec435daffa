"""The organization: teams, roles, employees and their chain of command, customers and cases, the
audit trail, notifications and outgoing mail.

It knows nothing of authority (`delegation`) or feedback (`feedback`); settings, URLs, Celery and
WSGI live in the project package `config`.
"""
