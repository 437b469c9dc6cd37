"""The core's own hook implementations for accounts."""
import datetime as dt

from mypages.accounts import throttle
from mypages.accounts.mail_jobs import JOBS
from mypages.accounts.methods import CORE_METHODS
from mypages.contract import PeriodicJob
from mypages.hookspecs import hookimpl


@hookimpl
def mypages_login_methods():
    return CORE_METHODS


@hookimpl
def mypages_jobs():
    return [*JOBS, PeriodicJob("accounts.clear_out_throttles", throttle.clear_out,
                               every=dt.timedelta(hours=1))]
