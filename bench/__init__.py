"""Benchmarks of mypages, measured side by side in one run (``make bench``)."""
import warnings

# Pyramid imports pkg_resources, which warns on import; the warning says nothing about mypages.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
