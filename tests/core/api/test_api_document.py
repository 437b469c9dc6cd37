"""One OpenAPI document, assembled from the core's operations and every plugin's."""
import pytest
from openapi_spec_validator import validate

from mypages.api import publish
from mypages.api.document import ApiBuilder, ApiDefinitionError
from mypages.hookspecs import hookimpl
from mypages.plugins import PluginError


def test_the_document_is_valid_openapi_31_with_the_core_and_the_plugins(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    validate(document)
    assert document["openapi"] == "3.1.0"
    operations = {op["operationId"]: op for item in document["paths"].values()
                  for op in item.values()}
    assert {"getCompany", "listMembers", "listModules", "startTrial", "deactivateModule",
            "listNotes", "addNote"} <= set(operations)
    assert operations["listNotes"]["x-mypages-module"] == "notes"
    assert operations["listNotes"]["security"] == [{"token": ["notes:read"]}]
    assert "notes:write" in document["x-mypages-scopes"]
    assert "text/csv" in operations["listModules"]["responses"]["200"]["content"]
    assert document["components"]["schemas"]["Note"]["properties"]["text"]


def test_the_document_speaks_the_callers_language(testapp):
    swedish = testapp.get("/api/v1/openapi.json", headers={"Accept-Language": "sv"}).json
    english = testapp.get("/api/v1/openapi.json", headers={"Accept-Language": "en"}).json
    assert swedish["paths"]["/notes"]["get"]["summary"] != \
        english["paths"]["/notes"]["get"]["summary"]


def test_the_reference_page_is_served_from_our_own_files(testapp):
    page = testapp.get("/api/v1/reference", headers={"Accept-Language": "en"})
    assert page.html.find(id="listModules") and page.html.find(id="addNote")
    assert page.html.find(id="problems")
    sources = [tag.get("src") or tag.get("href") or "" for tag in page.html.find_all(
        ["script", "link"])]
    assert all(not source.startswith(("http:", "https:", "//")) for source in sources)


class _Plugin:
    def __init__(self, add):
        self.add = add

    @hookimpl
    def mypages_api(self, api):
        self.add(api)


def _publish_with(app, add):
    pm = app.registry["plugins.manager"]
    plugin = _Plugin(add)
    pm.register(plugin, name="broken")
    try:
        publish(app.registry)
    finally:
        pm.unregister(plugin)
        publish(app.registry)


@pytest.mark.parametrize("add,why", [
    (lambda api: api.add_operation("get", "/x", print, operation_id="x1", scope="nosuch:read",
                                   summary="x"), "nosuch:read"),
    (lambda api: api.add_operation("get", "/x", print, operation_id="x1", scope="company:read",
                                   summary="x", module="nosuch"), "nosuch"),
    (lambda api: api.add_operation("get", "/company", print, operation_id="x1",
                                   scope="company:read", summary="x"), "already"),
    (lambda api: api.add_scope("Bad Scope", "x"), "area:read"),
])
def test_a_plugins_bad_operation_stops_start_up_by_name(app, add, why):
    with pytest.raises(PluginError, match=why) as raised:
        _publish_with(app, add)
    assert "broken" in str(raised.value)


def test_a_list_needs_its_items_schema():
    api = ApiBuilder()
    with pytest.raises(ApiDefinitionError, match="add the schema"):
        api.add_list("/things", print, operation_id="listThings", scope="things:read",
                     summary="x", item="Thing", columns=("id",))
