"""The multi-account dashboard (Dash + plotly): the seed's layout plus a risk officer's shift view.

`create_app(DashboardContext(...))` builds the app; `data.build_view` is the browser-free view model.
"""

from multiaccount.dashboard.app import DashboardContext, create_app, current_view
from multiaccount.dashboard.data import AccountReading, DashboardInputs, DashboardView, InMemorySource, build_view

__all__ = ["AccountReading", "DashboardContext", "DashboardInputs", "DashboardView", "InMemorySource", "build_view",
           "create_app", "current_view"]
