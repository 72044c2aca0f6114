"""The data model: one module per concept, all importable from here."""

from marketplace.models.audit import AuditEntry
from marketplace.models.contract import Contract
from marketplace.models.embedding import ListingEmbedding
from marketplace.models.listing_change import ListingChange
from marketplace.models.measure_proxy import MeasureProxy
from marketplace.models.need import Need, NeedStatus
from marketplace.models.notification import Notification
from marketplace.models.offer import Offer, OfferStatus
from marketplace.models.organisation import Organisation, OrganisationKind, Verification
from marketplace.models.pledge import Pledge, PledgeEvent, PledgeStatus
from marketplace.models.reference import Category, District, Measure, Outcome
from marketplace.models.site_content import Feedback, PageText
from marketplace.models.user import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Category",
    "Contract",
    "District",
    "Feedback",
    "ListingChange",
    "ListingEmbedding",
    "Measure",
    "MeasureProxy",
    "Need",
    "NeedStatus",
    "Notification",
    "Offer",
    "OfferStatus",
    "Organisation",
    "OrganisationKind",
    "Outcome",
    "PageText",
    "Pledge",
    "PledgeEvent",
    "PledgeStatus",
    "Role",
    "User",
    "Verification",
]
