"""send_mail: .eml files when no SMTP host is set, real SMTP when one is."""
import email
import email.policy

from mypages.notifications import send_mail
from mypages.testing.plugin import build_app
from mypages.testing.smtp import body_of


def test_without_an_smtp_host_mail_is_written_as_eml_files(app, mypages_settings, tmp_path):
    directory = tmp_path / "mail"
    files_app = build_app(dict(mypages_settings, **{"mypages.mail.directory": str(directory),
                                                    "mypages.smtp.host": ""}), migrate=False)
    try:
        send_mail(files_app.registry, "anna@example.se", "Hej Anna", "Första raden\nÅÄÖ")
        send_mail(files_app.registry, "bo@example.se", "Hej Bo", "Andra brevet")
    finally:
        files_app.registry["db.engine"].dispose()
    written = sorted(directory.glob("*.eml"))
    assert len(written) == 2
    messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in written]
    recipients = sorted(str(message["To"]) for message in messages)
    assert recipients == ["anna@example.se", "bo@example.se"]
    anna = next(message for message in messages if message["To"] == "anna@example.se")
    assert anna["Subject"] == "Hej Anna"
    assert body_of(anna).strip() == "Första raden\nÅÄÖ"
    assert anna["Message-ID"] and anna["Date"]


def test_with_an_smtp_host_mail_goes_over_smtp(mail_app, smtp_server):
    send_mail(mail_app.registry, "anna@example.se", "Välkommen", "Hej Anna,\nÅÄÖ åäö")
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert smtp_server.envelopes[0][1] == ["anna@example.se"]
    assert message["To"] == "anna@example.se"
    assert message["Subject"] == "Välkommen"
    assert body_of(message).strip() == "Hej Anna,\nÅÄÖ åäö"
    assert smtp_server.to("anna@example.se") == [message]


def test_the_sender_comes_from_the_settings(app, mypages_settings, smtp_server):
    sender_app = build_app(dict(mypages_settings, **smtp_server.settings,
                                **{"mypages.mail.sender": "Mina sidor <noreply@mypages.example>"}),
                           migrate=False)
    try:
        send_mail(sender_app.registry, "anna@example.se", "Hej", "Text")
    finally:
        sender_app.registry["db.engine"].dispose()
    assert smtp_server.envelopes[0][0] == "noreply@mypages.example"
    assert smtp_server.messages[0]["From"].addresses[0].display_name == "Mina sidor"
