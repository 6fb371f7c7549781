"""How many messages match, as the overview says it: exact, capped, or a lower bound for now.

Why three kinds: counting stops at a cap ("10,000+"), and the page waits for a count no longer
than a budget (``read_models.overview_count``), so what it shows at once may be only what it
already knows — the rows it listed — until the exact figure arrives.  Each kind has a label that
says which it is, so a figure on the page is never more than the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 50


@dataclass(frozen=True)
class MessageCount:
    """``value`` matches, exactly; or, if ``capped``, more than ``value``; or, if not ``settled``,
    at least ``value`` while the exact count is still running."""

    value: int
    capped: bool  # more than ``value`` match
    settled: bool = True  # False: a lower bound, the exact count is on its way

    @property
    def label(self) -> str:
        if not self.settled:
            return f"at least {self.value:,}"
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"

    def pages(self, page_size: int = PAGE_SIZE) -> int:
        """Pages to offer (at least one): a capped count pages through the first ``value`` rows;
        a lower bound offers one page beyond what is known, so paging on is never blocked."""
        return max(1, -(-self.value // page_size) + (0 if self.settled else 1))
