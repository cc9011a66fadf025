"""The root of the container: the settings, and the values every part derives from them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.settings import Settings

if TYPE_CHECKING:  # the providers import their modules when first used (cold starts stay light)
    from chalicelib.mapping import FieldMap
    from chalicelib.models.budget import RateLimits


@dataclass
class SettingsValues:
    settings: Settings

    def field_map(self) -> FieldMap:
        """The field map every use case reads (MAPPING_FILE, else the packaged one); cached by path."""
        from chalicelib.mapping import load_field_map

        return load_field_map(self.settings.MAPPING_FILE or None)

    @cached_property
    def rate_limits(self) -> RateLimits:
        from chalicelib.models.budget import RateLimits

        s = self.settings
        return RateLimits(
            minute=s.XERO_MINUTE_LIMIT, day=s.XERO_DAY_LIMIT, concurrent=s.XERO_CONCURRENT_LIMIT
        )
