"""The app's side of full-text search: the outbox that records changes, the sync that
drains it into the ``search_index`` library, and searching with a database fallback.
"""
