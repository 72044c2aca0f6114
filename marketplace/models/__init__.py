"""The data model: one module per concept, all importable from here."""

from marketplace.models.embedding import ListingEmbedding
from marketplace.models.listing_change import ListingChange
from marketplace.models.need import Need, NeedStatus
from marketplace.models.offer import Offer, OfferStatus
from marketplace.models.organisation import Organisation, OrganisationKind, Verification
from marketplace.models.reference import Category, District, Measure, Outcome
from marketplace.models.user import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "Category",
    "District",
    "ListingChange",
    "ListingEmbedding",
    "Measure",
    "Need",
    "NeedStatus",
    "Offer",
    "OfferStatus",
    "Organisation",
    "OrganisationKind",
    "Outcome",
    "Role",
    "User",
    "Verification",
]
