"""The Social Value Marketplace: a Flask application where community groups post needs,
suppliers post offers and pledge, and council officers verify, approve and report.

The application factory is ``marketplace.app.create_app``.
"""
