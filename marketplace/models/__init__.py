"""The data model: one module per concept, all importable from here."""

from marketplace.models.audit import AuditEntry
from marketplace.models.contract import Contract
from marketplace.models.embedding import ListingEmbedding
from marketplace.models.index_replica import IndexReplica
from marketplace.models.listing_change import ListingChange
from marketplace.models.measure_proxy import MeasureProxy
from marketplace.models.membership import Invitation, JoinRequest
from marketplace.models.message import Message
from marketplace.models.need import Need, NeedStatus
from marketplace.models.notification import Notification
from marketplace.models.offer import Offer, OfferStatus
from marketplace.models.offer_request import OfferRequest, RequestStatus
from marketplace.models.organisation import Organisation, OrganisationKind, Verification
from marketplace.models.pledge import EvidenceFile, EvidenceReview, Pledge, PledgeEvent, PledgeStatus
from marketplace.models.reference import Category, District, Measure, Outcome
from marketplace.models.saved_search import SavedSearch
from marketplace.models.site_content import Feedback, PageText
from marketplace.models.user import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Category",
    "Contract",
    "District",
    "EvidenceFile",
    "EvidenceReview",
    "Feedback",
    "IndexReplica",
    "Invitation",
    "JoinRequest",
    "ListingChange",
    "ListingEmbedding",
    "Measure",
    "MeasureProxy",
    "Message",
    "Need",
    "NeedStatus",
    "Notification",
    "Offer",
    "OfferRequest",
    "OfferStatus",
    "Organisation",
    "OrganisationKind",
    "Outcome",
    "PageText",
    "Pledge",
    "PledgeEvent",
    "PledgeStatus",
    "RequestStatus",
    "Role",
    "SavedSearch",
    "User",
    "Verification",
]
