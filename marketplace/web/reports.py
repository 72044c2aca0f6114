"""Officers' social value reports and the public impact page (to be filled in by the reports work)."""

from flask import Blueprint

bp = Blueprint("reports", __name__)
