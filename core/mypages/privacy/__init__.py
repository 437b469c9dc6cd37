"""Data export and erasure: a company's data as one archive (JSON and CSV per kind and its
stored files, with every plugin's part through ``mypages_company_export``), built by a job
and downloaded once; a company erased for good by an operator (plugins through
``mypages_company_erase``), leaving only a record that it happened; a person's own data
downloaded, and their account deleted at their request.

This domain sits above every other: it reads and deletes the rows of all of them."""
from __future__ import annotations


def includeme(config):
    config.register_core_hooks("core.privacy", "mypages.privacy.hooks")
    config.add_company_route("company_data", "/settings/data")
    config.add_company_route("company_data_download",
                             "/settings/data/exports/{export_id}/archive.zip")
    config.add_route("operator_company", "/operator/companies/{company_id}",
                     ids=("company_id",))
    config.add_route("operator_company_download",
                     "/operator/companies/{company_id}/exports/{export_id}/archive.zip",
                     ids=("company_id", "export_id"))
    config.add_route("operator_erasures", "/operator/erasures")
    config.add_route("own_data", "/account/data")
    config.add_route("own_data_download", "/account/data.zip")
    config.scan(".views")
