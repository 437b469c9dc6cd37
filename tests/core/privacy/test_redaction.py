"""What redaction takes out of free text: whole values, in any case, in text, lists and
dicts alike; and nothing else."""
from mypages.privacy.redaction import REDACTED, Erasing


def test_whole_values_go_in_any_case_and_nothing_else():
    erasing = Erasing(["Ann", "ann@acme.example", "Acme AB", "  ", "x"])
    assert erasing.scrub("Channel: ANN wrote to Ann@Acme.example for acme ab") == \
        f"Channel: {REDACTED} wrote to {REDACTED} for {REDACTED}"
    assert erasing.scrub({"to": ["ann@acme.example", "bob@acme.example"], "n": 3}) == \
        {"to": [REDACTED, "bob@acme.example"], "n": 3}
    assert erasing.scrub("annual report of Acme ABC") == "annual report of Acme ABC"
    assert not erasing.found_in("a planned channel") and erasing.found_in("by ann.")


def test_payloads_that_name_the_company_or_a_person_by_id():
    erasing = Erasing([], user_ids={7}, company_id=3)
    assert erasing.names_ids({"company_id": 3})
    assert erasing.names_ids({"batch": [{"user_id": 7}]})
    assert not erasing.names_ids({"company_id": 4, "user_id": 8, "count": 3})
