"""``make run PORT=8000``: the product on another port, every address of the development
config moved with it, on the same data under var/."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import plaster
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def checkout(tmp_path):
    """The Makefile and development.ini in a folder of their own (make writes var/ there)."""
    for name in ("Makefile", "development.ini", "setup.cfg"):
        shutil.copy(REPO / name, tmp_path / name)
    for plugin in ("examples/notes", "plugins/sso_azure", "plugins/sso_google",
                   "plugins/bankid", "plugins/ocr", "plugins/rates", "devtools"):
        (tmp_path / plugin).mkdir(parents=True)
        (tmp_path / plugin / "setup.cfg").touch()
    return tmp_path


def make(folder: Path, *args: str) -> str:
    return subprocess.run(["make", "-s", *args], cwd=folder, check=True, capture_output=True,
                          text=True).stdout


def settings(ini: Path, section: str) -> dict:
    return dict(plaster.get_loader(str(ini), protocols=["wsgi"]).get_settings(section))


def test_make_run_with_a_port_serves_every_address_on_it(checkout):
    planned = make(checkout, "-n", "run", "PORT=8123")
    assert "pserve var/development-8123.ini" in planned
    assert "mypages -c var/development-8123.ini db upgrade" in planned

    make(checkout, "var/development-8123.ini")
    moved = checkout / "var" / "development-8123.ini"
    app, default = settings(moved, "app:main"), settings(checkout / "development.ini", "app:main")
    assert settings(moved, "server:main")["listen"] == "127.0.0.1:8123"
    assert app["mypages.base_url"] == "http://127.0.0.1:8123"
    assert app["mypages_rates.ecb_url"].startswith("http://127.0.0.1:8123/_dev/")
    assert "6543" not in moved.read_text()
    # the same database, mail and files as on the default port
    for name in ("sqlalchemy.url", "mypages.mail.directory", "mypages.storage.directory"):
        assert app[name] == default[name]


def test_make_run_without_a_port_serves_development_ini_as_it_is(checkout):
    planned = make(checkout, "-n", "run")
    assert "pserve development.ini" in planned
    assert not (checkout / "var").exists()
