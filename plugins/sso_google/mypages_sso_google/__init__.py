"""Google Workspace for the "Single Sign On" module, over OpenID Connect.

People are keyed on Google's ``sub``. An answer is accepted only when Google
vouches for the e-mail (``email_verified``) and names, in the ``hd`` claim,
the Workspace domain as one the company has verified: anyone can have a
Google account, only the company's Workspace users carry its ``hd``. The
``hd`` request parameter is sent as a hint for Google's account chooser,
never trusted as a check.
"""
from mypages.toolkit import hookimpl

from mypages_sso_google.provider import GoogleWorkspace

#: the hookspec version this plugin was written for
mypages_hookspec = "2.0"


@hookimpl
def mypages_sso_providers():
    return [GoogleWorkspace()]


def includeme(config):
    config.add_translation_dirs("mypages_sso_google:locale/")
