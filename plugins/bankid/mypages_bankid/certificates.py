"""The RP certificate's expiry: a daily job e-mails the operators 30 days before it, once per
certificate (a new certificate is warned of afresh), and audits it."""
from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives import hashes

from mypages.toolkit import PeriodicJob, mail_operators

from mypages_bankid.client import rp_certificate
from mypages_bankid.models import CertificateWarning
from mypages_bankid.web import service_of

#: days before the RP certificate expires from which the operators are warned
WARNING_DAYS = 30
#: the e-mail, with the days left in each operator's language's plural form
TEMPLATE = "mypages_bankid:templates/mail/certificate_expiry.jinja2"


def warn_of_expiry(job) -> None:
    service = service_of(job.registry)
    if not service.configured or service.is_fake:
        return
    certificate = rp_certificate(service.config)
    expires = certificate.not_valid_after_utc
    days = (expires - job.now).days
    if days >= WARNING_DAYS:
        return
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    if job.dbsession.get(CertificateWarning, fingerprint) is not None:
        return
    job.dbsession.add(CertificateWarning(fingerprint=fingerprint, expires_at=expires,
                                         warned_at=job.now))
    sent = mail_operators(job, template=TEMPLATE, values={
        "expires": expires.date(), "days": max(days, 0),
        "subject": certificate.subject.rfc4514_string()})
    job.audit("bankid.certificate_warning", target=fingerprint[:16],
              expires=expires.date().isoformat(), operators=sent)


JOBS = [PeriodicJob("bankid.certificate_expiry", warn_of_expiry, at=dt.time(7, 0))]
