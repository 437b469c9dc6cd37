"""The sign-in policy."""
