"""The app's side of matching: stored vectors, the in-process matcher kept current, and
the conversion of needs and offers into the ``matching`` library's documents.
"""
