"""What every surface shows, in one place so the CLI, the MCP server and the LSP server can
never disagree: JSON envelopes (`views`), hover Markdown and stale banners (`markdown`).

The names below are re-exported for the code that grew up with a single `present` module;
new code imports from the submodule that defines what it needs.
"""

from aether.present.markdown import (
    escape_md,
    hover_markdown,
    relative_time,
    stale_banner,
)
from aether.present.views import (
    SCHEMA_VERSION,
    DaemonView,
    ExplainView,
    HealthView,
    LiveStatusView,
    LookupView,
    RefreshView,
    SearchMatch,
    SearchView,
    SirView,
    StatusView,
    daemon_view,
    refresh_view,
    search_match,
    sir_view,
    warning_for,
)

__all__ = [
    "SCHEMA_VERSION", "DaemonView", "ExplainView", "HealthView", "LiveStatusView", "LookupView",
    "RefreshView", "SearchMatch", "SearchView", "SirView", "StatusView", "daemon_view",
    "escape_md", "hover_markdown", "refresh_view", "relative_time", "search_match",
    "sir_view", "stale_banner", "warning_for",
]
