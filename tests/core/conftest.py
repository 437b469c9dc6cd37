import pytest

from tests.core.served import gunicorn


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The application under gunicorn on loopback, logging JSON lines (the ini's formatter):
    bodies limited to 1 MB, and a blob storage directory that cannot be made (a file is in
    its way), so /readyz has something to report, and to log."""
    folder = tmp_path_factory.mktemp("served")
    (folder / "in-the-way").write_text("not a directory")
    with gunicorn(folder, **{"mypages.max_body_size": "1M",
                             "mypages.storage.directory": str(folder / "in-the-way" / "blobs")}
                  ) as server:
        yield server
