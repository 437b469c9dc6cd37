"""Every core model, imported so that ``Base.metadata`` is complete."""
from mypages.accounts.models import User, UserSession  # noqa: F401
from mypages.audit.models import AuditEvent  # noqa: F401
from mypages.companies.models import Company, Membership, Role  # noqa: F401
from mypages.jobs.models import PeriodicJobState, QueuedJob  # noqa: F401
from mypages.modules.models import ModuleActivation, ModuleSettings, ModuleState, Order  # noqa: F401
