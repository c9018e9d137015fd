"""Lianjie's use cases, below the web app, the jobs and the CLI.

Every use case takes a `Context` (driver and settings) and the calling `Principal` explicitly, decides
what that caller may do and see, and raises a `services.errors.ServiceError` when it may not. Nothing here
imports Flask: the API and the web pages are thin adapters over these functions.
"""
