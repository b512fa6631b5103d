from django.urls import path, register_converter

from web import errors, metrics
from web.views import accounts, analytics, api, dashboard, exports, members, ops, stories


class UsernameConverter:
    """The platform's username alphabet: anything else cannot be a member, so is a plain 404."""

    regex = "[A-Za-z0-9_]{1,30}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UsernameConverter, "username")

urlpatterns = [
    # Stories
    path("", stories.home, name="home"),
    path("newest", stories.newest, name="newest"),
    path("search", stories.search, name="search"),
    path("submit", stories.submit, name="submit"),
    path("s/<int:story_id>", stories.story, name="story"),
    path("s/<int:story_id>/edit", stories.edit, name="story-edit"),
    path("s/<int:story_id>/delete", stories.delete, name="story-delete"),
    path("s/<int:story_id>/go", stories.go, name="story-go"),
    # Members
    path("signup", accounts.signup, name="signup"),
    path("login", accounts.login, name="login"),
    path("logout", accounts.logout, name="logout"),
    path("settings/profile", members.settings_profile, name="settings-profile"),
    path("settings/export", exports.request_export, name="export-request"),
    path("exports/<uuid:export_id>", exports.export_page, name="export"),
    path("exports/<uuid:export_id>.json", exports.export_json, name="export-json"),
    path("exports/<uuid:export_id>/download", exports.download, name="export-download"),
    path("u/<username:username>", members.profile, name="member"),
    path("u/<username:username>/follow", members.follow, {"follow": True}, name="follow"),
    path("u/<username:username>/unfollow", members.follow, {"follow": False}, name="unfollow"),
    path("u/<username:username>/avatar", members.avatar, name="avatar"),
    # Precalculated results
    path("analytics", analytics.referrers, name="analytics"),
    # The public JSON API
    path("api/stories", api.stories, name="api-stories"),
    path("api/stories/<int:story_id>", api.story, name="api-story"),
    path("api/stories/<int:story_id>/fanout", api.fanout, name="api-story-fanout"),
    path("api/users/<username:username>", api.user, name="api-user"),
    path("api/search", api.search, name="api-search"),
    # Operations
    path("dashboard", dashboard.page, name="dashboard"),
    path("dashboard/data", dashboard.data, name="dashboard-data"),
    path("dashboard/charts", dashboard.charts, name="dashboard-charts"),
    path("status", ops.status_page, name="status"),
    path("status.json", ops.status_page, name="status-json"),
    path("status/detail", ops.status_detail, name="status-detail"),  # operators only
    path("status/detail.json", ops.status_detail, name="status-detail-json"),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    # Prometheus' door; the edge refuses it from outside (haproxy/edge.cfg).
    path("metrics", metrics.export, name="metrics"),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
