"""Rewrites of manimgl and old Manim CE idioms into the installed Manim CE's API.

Used by the coder on every draft before its checks, and by the render-only route when a
client asks for it (`fix_api`). See `rules.RULES` for the table.
"""

from shared.api_rewrites.engine import active_rules, rewrite_api, rewrites_report

__all__ = ["active_rules", "rewrite_api", "rewrites_report"]
