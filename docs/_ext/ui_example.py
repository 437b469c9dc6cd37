"""``.. ui-example::``: a fragment of the core's HTML, shown as source and rendered with the
core's own stylesheet (mypages.css) in a frame of its own, so the documentation's styles and
the portal's never mix (docs/plugins/ui.rst)."""
from html import escape

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective


class UiExample(SphinxDirective):
    has_content = True
    option_spec = {"height": directives.positive_int}

    def run(self):
        source = "\n".join(self.content)
        code = nodes.literal_block(source, source, language="html+jinja")
        up = "../" * self.env.docname.count("/")
        page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                f'<link rel="stylesheet" href="{up}_static/mypages.css"></head>'
                f'<body><main>{source}</main></body></html>')
        height = self.options.get("height", 160)
        frame = nodes.raw("", f'<iframe class="ui-example" title="Rendered example" '
                              f'style="width:100%;border:1px solid #d9dee6;border-radius:6px" '
                              f'height="{height}" srcdoc="{escape(page, quote=True)}"></iframe>',
                          format="html")
        return [code, frame]


def setup(app):
    app.add_directive("ui-example", UiExample)
    return {"parallel_read_safe": True}
