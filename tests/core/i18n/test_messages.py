"""Messages stored now and translated when read (mypages.i18n.message_record / stored_message)."""
from __future__ import annotations

import json

from mypages.i18n import _, message_record, stored_message


def test_a_stored_message_is_read_in_the_readers_language(request_in):
    message = _("The password must be at least ${length} characters long.", mapping={"length": 14})
    record = json.loads(json.dumps(message_record(message)))  # as a JSON column keeps it
    swedish, english = request_in("sv"), request_in("en")
    assert swedish.translate(stored_message(record)) == "Lösenordet måste vara minst 14 tecken långt."
    assert english.translate(stored_message(record)) == (
        "The password must be at least 14 characters long.")


def test_a_plugins_message_keeps_its_domain(request_in):
    from mypages.toolkit import TranslationStringFactory

    record = message_record(TranslationStringFactory("mypages_sso_azure")(
        "Entra ID sent no groups. Add the groups claim to the app registration "
        "(Token configuration)."))
    assert record["domain"] == "mypages_sso_azure"
    assert "Entra ID skickade inga grupper" in request_in("sv").translate(stored_message(record))
