"""Development tools for mypages: the offline identity providers and the demo data.

A plugin like any other (entry point ``devtools`` in ``mypages.plugins``), for
development machines and test runs only: it serves stand-ins for Microsoft Entra
ID, Google and a SAML identity provider under ``/_dev/`` (``mypages_dev_apps``)
and seeds a demo company whose people have known passwords (``mypages_demo``).
A production installation leaves this distribution out; production refuses to
start with it enabled (``mypages_development_only``) as it does with
``mypages.dev_features``. The identity providers themselves
(:mod:`mypages_devtools.fakes`) also serve the tests over real HTTP
(``mypages.testing``).
"""
from mypages.toolkit import hookimpl

from mypages_devtools import demo, identity

#: the hookspec version this plugin was written for
mypages_hookspec = "2.3"
#: production refuses to start with this plugin enabled
mypages_development_only = True


@hookimpl
def mypages_dev_apps():
    return identity.stand_ins()


@hookimpl
def mypages_demo_sign_ins():
    return demo.sign_ins()


@hookimpl(tryfirst=True)  # the demo company other plugins' demo data may build on
def mypages_demo(context):
    return demo.seed(context)


def includeme(config):
    config.add_translation_dirs("mypages_devtools:locale/")
