"""A mechanism's terms: which registered kind, strike, volumes, referenced price and levy timing."""

from __future__ import annotations

from dataclasses import dataclass

from critmin.pricing.mechanisms.base import MechanismModel
from critmin.pricing.mechanisms.registry import get_model
from critmin.pricing.volumes import Volume, as_schedule
from critmin.pricing.zones import REFERENCES

STAGES: tuple[str, ...] = ("concentrate", "oxide", "metal", "magnet")


@dataclass(frozen=True)
class Mechanism:
    """Terms of one mechanism on one material.

    ``volume_t_per_year``: covered member output (levy: non-member imports before the levy), flat or a
    year-by-year schedule; ``member_output_t_per_year``: member output a levy protects; ``reference``: the
    price the mechanism references (default: the kind's own, ``landed`` for the levy, else ``outside``);
    ``reset_months`` / ``lag_months``: levy timing (default from the parameters); ``stage``: deal stage.
    """

    kind: str
    strike_usd_per_t: float
    volume_t_per_year: Volume
    upside_share: float | None = None
    take_or_pay_fraction: float | None = None
    member_output_t_per_year: Volume = 0.0
    reference: str | None = None
    reset_months: int | None = None
    lag_months: int | None = None
    stage: str | None = None

    def __post_init__(self) -> None:
        get_model(self.kind)  # raises on an unregistered kind
        if not self.strike_usd_per_t > 0:
            raise ValueError(f"strike: {self.strike_usd_per_t}; expected a positive price in USD/t")
        object.__setattr__(self, "volume_t_per_year", as_schedule(self.volume_t_per_year))
        member = as_schedule(self.member_output_t_per_year, "member_output_t_per_year")
        object.__setattr__(self, "member_output_t_per_year", member)
        for name in ("upside_share", "take_or_pay_fraction"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{name}: {v}; expected a fraction in [0, 1]")
        if self.reference is not None and self.reference not in REFERENCES:
            raise ValueError(f"reference: {self.reference!r}; expected one of {', '.join(REFERENCES)}")
        if self.reset_months is not None and self.reset_months < 1:
            raise ValueError(f"reset_months: {self.reset_months}; expected >= 1 month")
        if self.lag_months is not None and self.lag_months < 0:
            raise ValueError(f"lag_months: {self.lag_months}; expected >= 0 months")
        if self.stage is not None and self.stage not in STAGES:
            raise ValueError(f"stage: {self.stage!r}; expected one of {', '.join(STAGES)}")

    @property
    def model(self) -> MechanismModel:
        """The registered model of this kind."""
        return get_model(self.kind)

    @property
    def referenced(self) -> str:
        """The price this mechanism references."""
        return self.reference or self.model.default_reference
