"""The sign-in policy: every session judged against the policy of the company it works in
and of the platform, each company's password rules and break-glass admins."""
from __future__ import annotations

from mypages.policy.engine import policy_view_deriver
from mypages.policy.platform import PlatformPolicyCache, platform_requires_mfa
from mypages.policy.rules import PolicyRules


def includeme(config):
    config.include(".context")  # request.user, the company page: one loader, one SELECT
    config.registry["policy.platform"] = PlatformPolicyCache()
    config.add_request_method(platform_requires_mfa, "platform_requires_mfa", reify=True)
    config.add_view_deriver(policy_view_deriver, name="company_policy")
    config.set_sign_in_rules(PolicyRules())
    config.register_core_hooks("core.policy", "mypages.policy.hooks")
    config.add_company_route("company_security", "/settings/security")
    config.scan(".views")
