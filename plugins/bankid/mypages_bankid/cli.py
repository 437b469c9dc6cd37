"""``mypages bankid verify ORDER``: check a kept BankID signature (:mod:`.verify`); added to
the ``mypages`` command through the ``mypages.commands`` entry point ``bankid``."""
from __future__ import annotations

import sys

import click
from sqlalchemy import or_, select

from mypages_bankid.models import Signature
from mypages_bankid.verify import load_authorities, verify
from mypages_bankid.web import service_of, signing_ca_file


@click.group("bankid")
def bankid():
    """BankID: check kept signatures."""


@bankid.command("verify")
@click.argument("order")
@click.pass_context
def verify_command(ctx, order):
    """Check the signature of ORDER (a BankID order's id, or the signature's reference): the
    XML signature against the signed text and data, and the OCSP response. Exit status 1 if
    anything does not hold."""
    env = ctx.find_root().obj["env"]
    tm, work = env.transaction()
    with tm:
        row = work.dbsession.scalars(select(Signature).where(
            or_(Signature.id == order, Signature.order_id == order))).first()
        if row is None:
            click.echo(f"Error: no BankID signature for {order!r}", err=True)
            sys.exit(2)
        authorities = load_authorities(signing_ca_file(service_of(work.registry),
                                                       work.registry.settings))
        found = verify(row, authorities)
        click.echo(f"signature: {row.id} (order {row.order_id})")
        click.echo(f"signed by: {row.signer_name} at {row.signed_at.isoformat() if row.signed_at else '-'}")
        click.echo(f"certificate: {found.certificate or '-'}")
        click.echo(f"OCSP: {found.ocsp_status or '-'}"
                   + (f", produced {found.ocsp_produced_at.isoformat()}"
                      if found.ocsp_produced_at else ""))
        click.echo("signed text:")
        click.echo("  " + row.text.replace("\n", "\n  "))
        for problem in found.problems:
            click.echo(f"problem: {problem}")
        click.echo("valid" if found.valid else "NOT VALID")
    if not found.valid:
        sys.exit(1)
