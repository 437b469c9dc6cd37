"""Every core model, imported so that ``Base.metadata`` is complete."""
from mypages.accounts.models import (EmailToken, LoginThrottle, RecoveryCode, TotpCredential,
                                     User, UserSession)
from mypages.policy.models import PlatformPolicy
from mypages.audit.models import AuditEvent  # noqa: F401
from mypages.companies.models import Company, Invitation, Membership, Role
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.jobs.models import PeriodicJobState, QueuedJob  # noqa: F401
from mypages.modules.models import ModuleActivation, ModuleSettings, ModuleState, Order  # noqa: F401
from mypages.companies.models import Group, GroupMember  # noqa: F401
from mypages.sso.models import (SamlAssertionSeen, SsoAttempt, SsoConnection,  # noqa: F401
                                SsoGroupMapping, SsoLink, VerifiedDomain)
