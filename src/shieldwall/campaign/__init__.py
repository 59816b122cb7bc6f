"""Campaigns: many nights of raids against one theatre, with interceptor stocks that are fired,
delivered, produced and moved between depots and batteries (docs/campaign.md)."""

from shieldwall.campaign.load import LoadedCampaign, load_campaign
from shieldwall.campaign.run import night_seed, run_campaign

__all__ = ["LoadedCampaign", "load_campaign", "night_seed", "run_campaign"]
