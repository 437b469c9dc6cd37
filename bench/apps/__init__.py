"""Baseline WSGI apps served by gunicorn beside the real mypages app."""
