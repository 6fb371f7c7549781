"""Permissions, the roles that group them, and the signed-in user as the services see them.

Every service takes an ``Actor`` and checks it here; the pages only hide what the services
would refuse anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sms_core.domain.errors import PermissionDenied


class Permission(StrEnum):
    VIEW_SMS = "view_sms"
    SEND_SMS = "send_sms"  # send and resend
    MANAGE_STANDARD_TEXTS = "manage_standard_texts"
    MANAGE_SETTINGS = "manage_settings"
    VIEW_DELIVERY_REPORTS = "view_delivery_reports"
    MANAGE_USERS = "manage_users"  # users, org units and contacts

    @property
    def label(self) -> str:
        return {
            "view_sms": "view SMS messages",
            "send_sms": "send and resend SMS",
            "manage_standard_texts": "manage standard texts",
            "manage_settings": "manage SMS settings",
            "view_delivery_reports": "view delivery rates",
            "manage_users": "manage users, org units and contacts",
        }[self.value]


# The roles the first migration creates (name, label, permissions).
DEFAULT_ROLES: dict[str, tuple[str, frozenset[Permission]]] = {
    "staff": ("Staff", frozenset({Permission.VIEW_SMS, Permission.SEND_SMS})),
    "team_lead": (
        "Team lead",
        frozenset({Permission.VIEW_SMS, Permission.SEND_SMS, Permission.VIEW_DELIVERY_REPORTS}),
    ),
    "administrator": ("Administrator", frozenset(Permission)),
}


@dataclass(frozen=True)
class Actor:
    """The signed-in user, with what they may do and where."""

    id: int
    username: str
    display_name: str
    role: str
    permissions: frozenset[Permission]
    org_unit_ids: frozenset[int]
    current_org_unit_id: int | None
    api_key_id: int | None = None  # an organisation's system sending with an API key, not a person

    @property
    def user_id(self) -> int | None:
        """The user to record as having done something; None for an API key (recorded as itself)."""
        return None if self.api_key_id is not None else self.id

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission, org_unit_id: int | None = None) -> None:
        """Refuse unless the user holds the permission (in that org unit, when one is given)."""
        if permission not in self.permissions:
            raise PermissionDenied(f"You do not have permission to {permission.label}.")
        if org_unit_id is not None and org_unit_id not in self.org_unit_ids:
            raise PermissionDenied(
                f"You are not associated with that org. unit, so you cannot {permission.label} there."
            )

    def visible_units(self, requested: int | None | set[int] | frozenset[int] = None) -> frozenset[int]:
        """The org units a query may read: the requested ones, cut down to the user's own."""
        if requested is None:
            return self.org_unit_ids
        wanted = {requested} if isinstance(requested, int) else set(requested)
        return frozenset(wanted & self.org_unit_ids)
