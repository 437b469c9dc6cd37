"""Sphinx configuration of the mypages documentation (``make docs``)."""
import os
import sys

# The reference pages import the code they describe; work from a plain checkout too.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "core"))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "notes"))
sys.path.insert(0, os.path.join(HERE, "_ext"))

from mypages.hookspecs import HOOKSPEC_VERSION  # noqa: E402

# |hookspec_version| in the text always names the contract version of the code.
rst_prolog = ".. |hookspec_version| replace:: ``%d.%d``\n" % HOOKSPEC_VERSION

project = "mypages"
author = "the mypages authors"
copyright = "the mypages authors"
release = version = "0.1"

extensions = ["sphinx.ext.autodoc", "api_reference", "ui_example"]

exclude_patterns = ["_build", "_ext"]
root_doc = "index"
language = "en"

# Source order reads like the code: a hookspec's neighbours are its family.
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True

html_theme = "alabaster"
html_title = "mypages documentation"
html_theme_options = {
    "description": "Company portal: core and plugins",
    "fixed_sidebar": True,
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
# the core's stylesheet, for the rendered examples of docs/plugins/ui.rst
html_static_path = [os.path.join("..", "core", "mypages", "static")]


def check_toolkit_documented(app, env):
    """Fail the build when a name of the plugin API has no entry in the toolkit reference."""
    import mypages.toolkit
    from sphinx.util import logging

    documented = env.get_domain("py").objects
    for name in mypages.toolkit.__all__:
        if f"mypages.toolkit.{name}" not in documented:
            logging.getLogger(__name__).warning(
                "mypages.toolkit.%s is not documented: add it to docs/plugins/toolkit.rst", name)


def setup(app):
    app.connect("env-check-consistency", check_toolkit_documented)
