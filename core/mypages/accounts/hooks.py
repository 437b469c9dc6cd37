"""The core's own hook implementations for accounts."""
from mypages.accounts.mail_jobs import JOBS
from mypages.accounts.methods import CORE_METHODS
from mypages.hookspecs import hookimpl


@hookimpl
def mypages_login_methods():
    return CORE_METHODS


@hookimpl
def mypages_jobs():
    return JOBS
