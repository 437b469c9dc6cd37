"""Jobs registered on the shared test app for one test only."""
import pytest

from mypages.contract import PeriodicJob, QueuedJobType


@pytest.fixture
def register_job(app):
    """``register_job(job)`` adds a periodic or queued job type until the test ends."""
    registry = app.registry["jobs"]
    added = []

    def register(job):
        kind = registry.periodic if isinstance(job, PeriodicJob) else registry.queued
        assert isinstance(job, (PeriodicJob, QueuedJobType))
        assert job.name not in kind, f"{job.name} is already registered"
        kind[job.name] = job
        added.append((kind, job.name))
        return job

    yield register
    for kind, name in added:
        del kind[name]
