"""`empower.wsgi:application`, the WSGI entry point the contract names; it lives in `config.wsgi`."""

from config.wsgi import application

__all__ = ("application",)
